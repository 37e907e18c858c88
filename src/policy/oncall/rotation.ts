import { type OncallPolicy, WEEKDAYS } from './schema.ts';
import { dayNumber, instantOf, wallClock } from './zone.ts';

// Who is on call at an instant, and what the ack window and escalation path are then. Pure: the
// time is an argument, zones come from Intl.

export interface Shift {
  /** Shifts since the rotation's start (negative before it). */
  index: number;
  primary: string;
  /** Null in a primary-only rotation. */
  secondary: string | null;
  starts: number;
  ends: number;
  /** Who takes over at `ends`. */
  next: { primary: string; secondary: string | null };
}

export interface Rotation {
  members: string[];
  zone: string;
  every: 'day' | 'week';
  at: number;
  startDay: number;
  primaryOnly: boolean;
}

/** The rotation a policy describes, or null when it lists no members (the pre-rotation form). */
export function rotationOf(o: OncallPolicy): Rotation | null {
  if (!o.members || !o.handoff || !o.start) return null;
  const [y, m, d] = o.start.split('-').map(Number) as [number, number, number];
  return {
    members: o.members,
    zone: o.timezone,
    every: o.handoff.every,
    at: o.handoff.at,
    startDay: dayNumber({ year: y, month: m, day: d }),
    primaryOnly: o.mode === 'primary-only',
  };
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

function crew(r: Rotation, index: number): { primary: string; secondary: string | null } {
  const n = r.members.length;
  return {
    primary: r.members[mod(index, n)]!,
    // The next one up backs up the current primary: they are about to own the pager anyway.
    secondary: r.primaryOnly ? null : r.members[mod(index + 1, n)]!,
  };
}

export function shiftAt(r: Rotation, at: number): Shift {
  const wall = wallClock(at, r.zone);
  let days = dayNumber(wall) - r.startDay;
  if (wall.minutes < r.at) days -= 1;
  const length = r.every === 'day' ? 1 : 7;
  const index = Math.floor(days / length);
  const startDay = r.startDay + index * length;
  return {
    index,
    ...crew(r, index),
    starts: instantOf(startDay, r.at, r.zone),
    ends: instantOf(startDay + length, r.at, r.zone),
    next: crew(r, index + 1),
  };
}

/** Inside the policy's business hours (its days, from–to, in the rotation's zone). */
export function inBusinessHours(o: OncallPolicy, at: number): boolean {
  const w = wallClock(at, o.timezone);
  const bh = o.business_hours;
  return bh.days.includes(WEEKDAYS[w.weekday]!) && w.minutes >= bh.from && w.minutes < bh.to;
}

/**
 * The end of the business day `at` falls in; outside business hours, the end of the next business
 * day (a sev2 raised on Friday night is judged at the end of Monday).
 */
export function endOfBusinessDay(o: OncallPolicy, at: number): number {
  const w = wallClock(at, o.timezone);
  const bh = o.business_hours;
  for (let k = 0; k < 8; k++) {
    const day = dayNumber(w) + k;
    const weekday = WEEKDAYS[mod(w.weekday + k, 7)]!;
    if (!bh.days.includes(weekday)) continue;
    if (k === 0 && w.minutes >= bh.to) continue;
    return instantOf(day, bh.to, o.timezone);
  }
  throw new Error('unreachable: business_hours.days is never empty');
}

/** When business hours next begin at or after `at` (`at` itself inside them). */
export function nextBusinessStart(o: OncallPolicy, at: number): number {
  if (inBusinessHours(o, at)) return at;
  const w = wallClock(at, o.timezone);
  const bh = o.business_hours;
  for (let k = 0; k < 8; k++) {
    const weekday = WEEKDAYS[mod(w.weekday + k, 7)]!;
    if (!bh.days.includes(weekday) || (k === 0 && w.minutes >= bh.from)) continue;
    return instantOf(dayNumber(w) + k, bh.from, o.timezone);
  }
  throw new Error('unreachable: business_hours.days is never empty');
}

export function ackWindow(o: OncallPolicy, at: number): { ms: number; text: string; business: boolean } {
  const business = inBusinessHours(o, at);
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
  const ack = ackWindow(o, at).ms;
  const steps = o.escalation ?? (s.secondary ? [{ to: 'secondary' as const }] : []);
  const path: EscalationTarget[] = [{ step: 0, login: s.primary, role: 'primary', after: 0, wait: ack }];
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
      wait: step.wait?.ms ?? ack,
    });
  }
  return path;
}
