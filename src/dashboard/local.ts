import type { Decision } from '../policy/gate/decision-schema.ts';
import { ackWindow, escalationPath, rotationOf, shiftAt } from '../policy/oncall/rotation.ts';
import type { Readiness } from '../policy/readiness/verdict.ts';
import type { Policy } from '../policy/spec/schema.ts';
import { budgetChart, burnChart } from './charts.ts';
import { MemoryDashboardStore } from './memory-store.ts';
import type { AlertWindow, OncallView } from './ports.ts';

// `budget-gate dashboard`: one policy and one JSONL file, evaluated once at start-up, held in
// memory. The JSONL format has no deploy markers and there is no audit log or incident ledger, so
// the deployments and history pages are off here, and say why.

const LOCAL_NOTE =
  'Local mode reads one policy and one JSONL file: the telemetry format has no deployment markers and there is no audit log or incident ledger, so there are no deployments to replay and no history. The bot serves those pages from its store.';

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

export interface LocalInput {
  repo: string;
  policy: Policy;
  decision: Decision;
  at: number;
  readiness: Readiness | null;
  /** `jsonl examples/telemetry/demo.jsonl.gz` */
  source: string;
}

export function localStore(input: LocalInput): MemoryDashboardStore {
  // Drawn now, once, like every other figure: the first page load is as quick as the rest.
  const { soft_pause: soft, hard_pause: hard } = input.decision.thresholds;
  for (const slo of input.decision.slos) {
    budgetChart(slo, soft, hard);
    burnChart(slo, alertWindows(input.policy));
  }
  const environment = input.policy.environments[0] ?? 'production';
  return new MemoryDashboardStore({ deployments: false, history: false, note: LOCAL_NOTE }, [
    {
      repository: {
        repo: input.repo,
        environment,
        decision: input.decision,
        alert_windows: alertWindows(input.policy),
        held: [],
        source: input.source,
      },
      oncall: oncallView(input.policy, input.at, input.readiness),
    },
  ]);
}
