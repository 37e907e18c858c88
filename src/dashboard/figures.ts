import type { Decision } from '../policy/gate/decision-schema.ts';
import { ackWindow, escalationPath, rotationOf, shiftAt } from '../policy/oncall/rotation.ts';
import type { Readiness } from '../policy/readiness/verdict.ts';
import type { Policy } from '../policy/spec/schema.ts';
import { paceBurn } from '../report/format.ts';
import type { AlertWindow, OncallView } from './ports.ts';

// What the pages show, worked out from a decision or a policy when it is stored or loaded (the
// bot's evaluator, `budget-gate dashboard` at start-up, the memory store's put), never on a page
// load: a decision's line in the fleet, the policy's alert windows, and on-call at a time. Light
// on purpose (no charting): the bot's evaluator imports it.

/** The fleet line of a decision: its worst SLO (least budget left) and that SLO's burn over its pace lookback. */
export interface FleetFigures {
  state: Decision['state'];
  worst_slo: string | null;
  remaining: number | null;
  burn: number | null;
  alerts: number;
}

export function fleetFigures(d: Decision): FleetFigures {
  const known = d.slos.filter((s) => s.remaining !== null);
  const worst =
    known.length > 0 ? known.reduce((a, b) => (b.remaining! < a.remaining! ? b : a)) : (d.slos[0] ?? null);
  return {
    state: d.state,
    worst_slo: worst?.name ?? null,
    remaining: worst?.remaining ?? null,
    burn: worst ? (paceBurn(worst)?.value ?? null) : null,
    alerts: d.alerts.length,
  };
}

export const alertWindows = (policy: Policy): AlertWindow[] =>
  policy.alerts.map((a) => ({
    name: a.name,
    severity: a.severity,
    action: a.action,
    burn_rate: a.burn_rate,
    long: a.long.text,
    short: a.short.text,
  }));

const iso = (ms: number) => new Date(ms).toISOString();

/** On-call now, the next handoff and the escalation path, from the policy's rotation at `at`. */
export function oncallView(policy: Policy, at: number, readiness: Readiness | null): OncallView {
  const o = policy.oncall;
  const r = rotationOf(o);
  const ack = ackWindow(o, at);
  if (!r) return { now: null, next: null, zone: o.timezone, ack: ack.text, escalation: [], readiness };
  const s = shiftAt(r, at);
  return {
    now: { primary: s.primary, secondary: s.secondary, starts: iso(s.starts), ends: iso(s.ends) },
    next: { primary: s.next.primary, secondary: s.next.secondary, at: iso(s.ends) },
    zone: r.zone,
    ack: `${ack.text} (${ack.business ? 'business hours' : 'overnight'})`,
    escalation: escalationPath(o, at).map((e) => ({
      step: e.step,
      login: e.login,
      role: e.role,
      after_minutes: Math.round(e.after / 60_000),
    })),
    readiness,
  };
}
