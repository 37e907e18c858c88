import { everyone, rotationOf, shiftAt } from './schedule.ts';
import { type Hours, type OncallPolicy, WEEKDAYS } from './schema.ts';
import { dayNumber, instantOf, wallClock } from './zone.ts';

// Business hours, ack windows and the escalation path at an instant. They follow the responder:
// a member's own zone and working hours decide whether a page to them is in their business hours
// and how long they have to acknowledge it. Pure: the time is an argument, zones come from Intl.

const mod = (a: number, n: number) => ((a % n) + n) % n;

export { rotationOf, shiftAt };

/** A person's clock: their own zone and working hours, or the policy's. */
export interface Clock {
  zone: string;
  hours: Hours;
}

/** The clock of `login` (a member's own, else the policy's). */
export function clockOf(o: OncallPolicy, login: string | null): Clock {
  const fallback = { zone: o.timezone, hours: o.business_hours };
  if (!login) return fallback;
  const key = login.toLowerCase();
  for (const m of [...(o.members ?? []), ...(o.layers ?? []).flatMap((l) => l.members)]) {
    if (typeof m === 'string' || m.login.toLowerCase() !== key) continue;
    if (m.timezone || m.working_hours)
      return { zone: m.timezone ?? o.timezone, hours: m.working_hours ?? o.business_hours };
  }
  return fallback;
}

/** Who answers a page raised at `at`: the primary then, or nobody in particular without a rotation. */
export function responderAt(o: OncallPolicy, at: number): string | null {
  const r = rotationOf(o);
  return r ? shiftAt(r, at).primary : null;
}

function inHours(c: Clock, at: number): boolean {
  const w = wallClock(at, c.zone);
  return c.hours.days.includes(WEEKDAYS[w.weekday]!) && w.minutes >= c.hours.from && w.minutes < c.hours.to;
}

/**
 * Inside the business hours of whoever answers at `at` (default: the primary then), on their own
 * clock; without a rotation, the policy's business hours in its zone.
 */
export function inBusinessHours(
  o: OncallPolicy,
  at: number,
  login: string | null = responderAt(o, at),
): boolean {
  return inHours(clockOf(o, login), at);
}

/**
 * The end of the business day `at` falls in; outside business hours, the end of the next business
 * day (a sev2 raised on Friday night is judged at the end of Monday).
 */
export function endOfBusinessDay(
  o: OncallPolicy,
  at: number,
  login: string | null = responderAt(o, at),
): number {
  const c = clockOf(o, login);
  const w = wallClock(at, c.zone);
  const bh = c.hours;
  for (let k = 0; k < 8; k++) {
    const day = dayNumber(w) + k;
    const weekday = WEEKDAYS[mod(w.weekday + k, 7)]!;
    if (!bh.days.includes(weekday)) continue;
    if (k === 0 && w.minutes >= bh.to) continue;
    return instantOf(day, bh.to, c.zone);
  }
  throw new Error('unreachable: business_hours.days is never empty');
}

/** When one clock's business hours next begin at or after `at`. */
function nextStartOn(c: Clock, at: number): number {
  if (inHours(c, at)) return at;
  const w = wallClock(at, c.zone);
  for (let k = 0; k < 8; k++) {
    const weekday = WEEKDAYS[mod(w.weekday + k, 7)]!;
    if (!c.hours.days.includes(weekday) || (k === 0 && w.minutes >= c.hours.from)) continue;
    return instantOf(dayNumber(w) + k, c.hours.from, c.zone);
  }
  throw new Error('unreachable: working hours always name a day');
}

/**
 * When a business-hours page raised at `at` can first go out: the first instant at or after it when
 * whoever is primary then is inside their own working hours. It can only begin at someone's start
 * of day or at a handoff, so those are the candidates.
 */
export function nextBusinessStart(o: OncallPolicy, at: number): number {
  const r = rotationOf(o);
  if (!r) return nextStartOn(clockOf(o, null), at);
  if (inBusinessHours(o, at)) return at;
  const candidates = new Set<number>();
  let t = at;
  for (let i = 0; i < 64 && t < at + 15 * 86_400_000; i++) {
    const s = shiftAt(r, t);
    for (const login of everyone(r)) {
      const start = nextStartOn(clockOf(o, login), t);
      if (start < s.ends) candidates.add(start);
    }
    candidates.add(s.ends);
    t = s.ends;
  }
  for (const c of [...candidates].sort((a, b) => a - b)) if (c >= at && inBusinessHours(o, c)) return c;
  return nextStartOn(clockOf(o, r.members[0]!), at);
}

export function ackWindow(
  o: OncallPolicy,
  at: number,
  login: string | null = responderAt(o, at),
): { ms: number; text: string; business: boolean } {
  const business = inBusinessHours(o, at, login);
  const d = business ? o.ack.business_hours : o.ack.overnight;
  return { ms: d.ms, text: d.text, business };
}

export interface EscalationTarget {
  /** 0 is the primary. */
  step: number;
  login: string;
  role: 'primary' | 'secondary' | 'named';
  /** When this step is reached if nobody acknowledged, ms after the primary was asked. */
  after: number;
  /** How long it waits for an acknowledgement before the next step. */
  wait: number;
}

/**
 * The escalation path for something raised at `at`: the primary first, then each step of the
 * policy's path (default: the secondary, when there is one). A person already asked is not asked
 * again; a step naming a role the rotation lacks is dropped.
 */
export function escalationPath(o: OncallPolicy, at: number): EscalationTarget[] {
  const r = rotationOf(o);
  if (!r) return [];
  const s = shiftAt(r, at);
  // Each responder's ack window is theirs, judged when their step is reached.
  const ackFor = (login: string, reached: number) => ackWindow(o, at + reached, login).ms;
  const steps = o.escalation ?? (s.secondary ? [{ to: 'secondary' as const }] : []);
  const path: EscalationTarget[] = [
    { step: 0, login: s.primary, role: 'primary', after: 0, wait: ackFor(s.primary, 0) },
  ];
  const firstIsPrimary = steps[0]?.to === 'primary';
  if (firstIsPrimary && steps[0]!.wait) path[0]!.wait = steps[0]!.wait.ms;
  for (const step of firstIsPrimary ? steps.slice(1) : steps) {
    const login = step.to === 'primary' ? s.primary : step.to === 'secondary' ? s.secondary : step.to;
    if (!login || path.some((p) => p.login === login)) continue;
    const prev = path[path.length - 1]!;
    path.push({
      step: path.length,
      login,
      role: step.to === 'secondary' ? 'secondary' : step.to === 'primary' ? 'primary' : 'named',
      after: prev.after + prev.wait,
      wait: step.wait?.ms ?? ackFor(login, prev.after + prev.wait),
    });
  }
  return path;
}
