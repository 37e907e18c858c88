import { firingAlerts } from './alerts.ts';
import type { Decision } from './decision-schema.ts';
import { explainVerdict } from './explain-verdict.ts';
import { type DecideInput, judge } from './verdict.ts';

export type { DecideInput } from './verdict.ts';

/** How many files the decision lists; the rest are counted in the risk reason. */
const MAX_RISK_FILES = 50;

/** The gate's decision: the verdict (verdict.ts) with its explanation (explain-verdict.ts), as one value. */
export function decide(input: DecideInput): Decision {
  const { policy, at, change, telemetry } = input;
  const v = judge(input);
  const { reasons, actions, warnings } = explainVerdict(policy, change, at, telemetry.source, v);
  const allowed = v.passage.kind !== 'held';
  const reports = v.evaluations.map((e) => e.report);
  const highFirst = [...v.risk.files].sort((a, b) => (a.class === b.class ? 0 : a.class === 'high' ? -1 : 1));
  return {
    state: v.state,
    allowed,
    risk: v.risk.risk,
    revert: v.passage.kind === 'revert',
    revert_evidence: v.passage.kind === 'revert' ? v.passage.evidence : null,
    reasons,
    actions: allowed ? [] : actions,
    slos: reports,
    alerts: firingAlerts(policy.alerts, reports),
    risk_files: highFirst.slice(0, MAX_RISK_FILES),
    override: v.passage.kind === 'override' ? v.passage.override : null,
    override_refusals: v.overrides.refusals,
    telemetry: { source: telemetry.source, error: v.telemetryError },
    warnings: [...(input.warnings ?? []), ...(telemetry.result?.warnings ?? []), ...warnings],
    thresholds: {
      soft_pause: policy.states.soft_pause.consumed,
      hard_pause: policy.states.hard_pause.consumed,
    },
    evaluated_at: new Date(at).toISOString(),
  };
}
