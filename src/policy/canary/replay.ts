import type { GridCounts, SloSamples, TelemetryRequest, TelemetryResult } from '../gate/sample.ts';
import type { Policy } from '../spec/schema.ts';
import { assessDeployment, type CanaryAssessment, type DeploymentAssessment, wouldBreach } from './assess.ts';
import type { CanaryRule } from './judge.ts';
import { type CanaryWatch, gridKey, snapToGrid } from './plan.ts';

// A past deploy judged look by look as the bot would have: one request for the grid of intervals
// from the start of the baseline to the end of the watch (planReplayRequest), then at each
// interval the same assessment the watcher makes, summed from that grid. The first revert ends
// the replay; otherwise the watch's last look is the verdict.

/** The grid's counts from a source's answer to planReplayRequest; null when the source gives ratios only. */
export function gridResult(request: TelemetryRequest, result: TelemetryResult): TelemetryResult | null {
  const slos: Record<string, SloSamples> = {};
  for (const q of request.slos) {
    const got = result.slos[q.slo.name];
    const k = q.ranges.length;
    const events = new Float64Array(k + 1);
    const bad = new Float64Array(k + 1);
    for (let i = 0; i < k; i++) {
      const s = got?.ranges[gridKey(i)];
      if (s && (s.events === null || s.bad === null)) return null;
      events[i + 1] = events[i]! + (s?.events ?? 0);
      bad[i + 1] = bad[i]! + (s?.bad ?? 0);
    }
    const first = q.ranges[0];
    const grid: GridCounts = {
      from: first?.from ?? request.at,
      step: first ? first.to - first.from : 1,
      events,
      bad,
    };
    slos[q.slo.name] = { ranges: {}, grid };
  }
  return { slos, ...(result.warnings ? { warnings: result.warnings } : {}) };
}

interface ReplaySlo {
  slo: string;
  status: CanaryAssessment['status'];
  rules: CanaryRule[];
  /** The line tested, as an attributable burn rate, and the always-valid bounds on the deploy's. */
  line_burn: number | null;
  burn_low: number | null;
  burn_high: number | null;
  /** Tasks and bad tasks since the deploy (the canary arm under a split) and what they were compared with. */
  tasks: number | null;
  bad: number | null;
  bad_ratio: number | null;
  baseline_tasks: number | null;
  baseline_bad: number | null;
  baseline_ratio: number | null;
  message: string;
}

/** The replay's verdict: the stable `--replay --json` object (README, "Replaying a deploy"). */
export interface Replay {
  deployment: string;
  /** When the deployment went live, and where the bot places it on the interval grid. */
  deployed_at: string;
  judged_from: string;
  /** revert: the bot would have reverted it at `minute`; keep: it would have kept it to the end of the watch. */
  verdict: 'revert' | 'keep';
  /** Minutes after the deploy of the look that decided: the revert's, or the watch's last. */
  minute: number;
  /** revert; or how the watch ended: clear (confidently under the lines) or inconclusive. */
  outcome: 'revert' | 'clear' | 'inconclusive';
  /** The SLO and rule of a revert (null when kept). */
  slo: string | null;
  rule: CanaryRule | null;
  reason: string;
  slos: ReplaySlo[];
}

function summary(a: CanaryAssessment): ReplaySlo {
  return {
    slo: a.slo,
    status: a.status,
    rules: a.rules,
    line_burn: a.line_burn,
    burn_low: a.burn_low,
    burn_high: a.burn_high,
    tasks: a.post.events,
    bad: a.post.bad,
    bad_ratio: a.post.ratio,
    baseline_tasks: a.baseline.events,
    baseline_bad: a.baseline.bad,
    baseline_ratio: a.baseline.ratio,
    message: a.message,
  };
}

/** Judges every interval of the watch in order, up to the first revert. */
export function replayDeployment(
  policy: Policy,
  watch: CanaryWatch,
  grid: TelemetryResult,
): { replay: Replay; assessment: DeploymentAssessment } {
  const ar = policy.auto_revert;
  const interval = ar.interval.ms;
  const at0 = snapToGrid(watch.deployed_at, interval);
  const placed = { id: watch.id, deployed_at: at0 };
  const looks = Math.ceil(ar.within.ms / interval);
  let k = 1;
  // Each look asks only whether the bot would revert; the deciding look is assessed in full.
  for (; k < looks; k++) if (wouldBreach(policy, placed, grid, at0 + k * interval)) break;
  const assessment = assessDeployment(policy, placed, grid, at0 + k * interval);
  const revert = assessment.breach;
  const worst = assessment.worst;
  const inconclusive = assessment.slos.some((s) => s.status === 'inconclusive');
  const minute = Math.round((k * interval) / 60_000);
  const reason = revert
    ? worst!.message
    : inconclusive
      ? `kept, inconclusive: the ${ar.within} watch ended without ${ar.confidence * 100}% evidence either way for ${assessment.slos
          .filter((s) => s.status === 'inconclusive')
          .map((s) => s.slo)
          .join(', ')}`
      : `kept: every SLO stayed under its line for the whole ${ar.within} watch`;
  return {
    assessment,
    replay: {
      deployment: watch.id,
      deployed_at: new Date(watch.deployed_at).toISOString(),
      judged_from: new Date(at0).toISOString(),
      verdict: revert ? 'revert' : 'keep',
      minute,
      outcome: revert ? 'revert' : inconclusive ? 'inconclusive' : 'clear',
      slo: revert ? worst!.slo : null,
      rule: revert ? (worst!.rules[0] ?? null) : null,
      reason,
      slos: assessment.slos.map(summary),
    },
  };
}
