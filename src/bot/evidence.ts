import { z } from 'zod';
import type { CanaryAssessment } from '../policy/canary/assess.ts';
import type { Policy } from '../policy/spec/schema.ts';

// What the watcher saw when it decided to revert, kept as JSON in the store (so a replica that
// takes over a half-done revert writes the same pull request) and rendered into the PR body.

export const evidenceSchema = z.object({
  slo: z.string(),
  target: z.number(),
  window: z.string(),
  sli: z.string(),
  attributable_consumed: z.number().nullable(),
  projected_consumed: z.number().nullable(),
  threshold: z.number(),
  within: z.string(),
  post_events: z.number().nullable(),
  post_bad: z.number().nullable(),
  post_ratio: z.number().nullable(),
  baseline_ratio: z.number().nullable(),
  baseline_span: z.string(),
  excess_bad: z.number().nullable(),
  window_budget: z.number().nullable(),
  /** Bad ratio / (1 - target): 1.0 spends the budget exactly over the window. */
  post_burn: z.number().nullable(),
  baseline_burn: z.number().nullable(),
  elapsed_ms: z.number(),
  deployed_at: z.number(),
  detected_at: z.number(),
  message: z.string(),
  runbook: z.object({ alert: z.string(), url: z.string() }).nullable(),
  /** The judge's verdict: which rules, at what confidence, the always-valid burn bounds (null in evidence from before it). */
  verdict: z
    .object({
      rules: z.array(z.string()),
      confidence: z.number(),
      burn_low: z.number().nullable(),
      burn_high: z.number().nullable(),
      line_burn: z.number().nullable(),
      burn_rate: z.number(),
      outage_guard: z.boolean(),
    })
    .nullable()
    .default(null),
});
export type Evidence = z.output<typeof evidenceSchema>;

const burn = (ratio: number | null, target: number) => (ratio === null ? null : ratio / (1 - target));

/**
 * The runbook to link: the alert with the highest burn-rate line this deployment's burn crossed,
 * else the most urgent alert that has a runbook at all.
 */
function runbookFor(policy: Policy, postBurn: number | null): Evidence['runbook'] {
  const withRunbook = policy.alerts.filter((a) => a.runbook);
  const crossed = withRunbook
    .filter((a) => postBurn !== null && postBurn >= a.burn_rate)
    .sort((a, b) => b.burn_rate - a.burn_rate)[0];
  const fallback = [...withRunbook].sort(
    (a, b) => a.severity.localeCompare(b.severity) || b.burn_rate - a.burn_rate,
  )[0];
  const alert = crossed ?? fallback;
  return alert ? { alert: alert.name, url: alert.runbook! } : null;
}

export function buildEvidence(
  policy: Policy,
  assessment: CanaryAssessment,
  deployedAt: number,
  at: number,
): Evidence {
  const slo = policy.slos.find((s) => s.name === assessment.slo)!;
  const postBurn = burn(assessment.post.ratio, slo.target);
  return {
    slo: slo.name,
    target: slo.target,
    window: slo.window.spec,
    sli: slo.sli.kind,
    attributable_consumed: assessment.attributable_consumed,
    projected_consumed: assessment.projected_consumed,
    threshold: assessment.threshold,
    within: policy.auto_revert.within.text,
    post_events: assessment.post.events,
    post_bad: assessment.post.bad,
    post_ratio: assessment.post.ratio,
    baseline_ratio: assessment.baseline_ratio,
    baseline_span: policy.auto_revert.baseline.text,
    excess_bad: assessment.excess_bad,
    window_budget: assessment.window_budget,
    post_burn: postBurn,
    baseline_burn: burn(assessment.baseline_ratio, slo.target),
    elapsed_ms: assessment.elapsed_ms,
    deployed_at: deployedAt,
    detected_at: at,
    message: assessment.message,
    runbook: runbookFor(policy, postBurn),
    verdict: {
      rules: assessment.rules,
      confidence: assessment.confidence,
      burn_low: assessment.burn_low,
      burn_high: assessment.burn_high,
      line_burn: assessment.line_burn,
      burn_rate: policy.auto_revert.burn_rate,
      outage_guard: assessment.outage_guard,
    },
  };
}
