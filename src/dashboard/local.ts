import type { Decision } from '../policy/gate/decision-schema.ts';
import type { Readiness } from '../policy/readiness/verdict.ts';
import type { Policy } from '../policy/spec/schema.ts';
import { budgetChart, burnChart } from './charts.ts';
import { alertWindows, oncallView } from './figures.ts';
import { MemoryDashboardStore } from './memory-store.ts';

// `budget-gate dashboard`: one policy and one JSONL file, evaluated once at start-up, held in
// memory. The JSONL format has no deploy markers and there is no audit log or incident ledger, so
// the deployments and history pages are off here, and say why.

const LOCAL_NOTE =
  'Local mode reads one policy and one JSONL file: the telemetry format has no deployment markers and there is no audit log or incident ledger, so there are no deployments to replay and no history. The bot serves those pages from its store.';

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
