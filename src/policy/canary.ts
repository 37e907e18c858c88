import { budgetEvents } from './budget.ts';
import { pct } from './explain.ts';
import {
  RANGE_WINDOW,
  type Sample,
  type SloSamples,
  type TelemetryRequest,
  type TelemetryResult,
} from './sample.ts';
import type { Policy, Slo } from './schema.ts';
import { windowBounds } from './window.ts';

// Auto-revert: did this one deployment burn too much budget too fast? Attributable burn is the
// post-deploy bad events minus what the pre-deploy baseline rate would have produced in the same
// traffic, so a deploy that lands during an ongoing provider outage is not blamed for it.

export interface CanaryWatch {
  id: string;
  /** When the deployment went live, ms since epoch. */
  deployed_at: number;
}

export interface CanaryAssessment {
  slo: string;
  /** Share of the SLO window's budget this deployment burned beyond its baseline. */
  attributable_consumed: number | null;
  /** Linear projection to the end of the watch, when the policy allows projection and data suffices. */
  projected_consumed: number | null;
  threshold: number;
  post: Sample;
  baseline_ratio: number | null;
  /** Bad events beyond the baseline; null for ratio-only sources. */
  excess_bad: number | null;
  window_budget: number | null;
  elapsed_ms: number;
  breach: boolean;
  message: string;
}

export interface DeploymentAssessment {
  breach: boolean;
  /** The watch is over: `auto_revert.within` has passed since the deployment went live. */
  expired: boolean;
  worst: CanaryAssessment | null;
  slos: CanaryAssessment[];
}

export const postKey = (id: string) => `post:${id}`;
export const baselineKey = (id: string) => `baseline:${id}`;

/** One request for every watched deployment: the number of requests per tick does not grow with watches. */
export function planCanaryRequest(policy: Policy, watches: CanaryWatch[], at: number): TelemetryRequest {
  const within = policy.auto_revert.within.ms;
  const baseline = policy.auto_revert.baseline.ms;
  return {
    at,
    slos: policy.slos.map((slo) => ({
      slo,
      quantiles: false,
      ranges: [
        { key: RANGE_WINDOW, from: windowBounds(slo.window, at).start, to: at },
        ...watches.flatMap((w) => [
          {
            key: postKey(w.id),
            from: w.deployed_at,
            to: Math.max(w.deployed_at, Math.min(at, w.deployed_at + within)),
          },
          { key: baselineKey(w.id), from: w.deployed_at - baseline, to: w.deployed_at },
        ]),
      ],
    })),
  };
}

export function assessSlo(
  policy: Policy,
  slo: Slo,
  watch: CanaryWatch,
  samples: SloSamples | undefined,
  at: number,
): CanaryAssessment {
  const ar = policy.auto_revert;
  const within = ar.within.ms;
  const bounds = windowBounds(slo.window, at);
  const elapsed = Math.max(0, Math.min(at, watch.deployed_at + within) - watch.deployed_at);
  const post = samples?.ranges[postKey(watch.id)] ?? { events: 0, bad: 0, ratio: null };
  const base = samples?.ranges[baselineKey(watch.id)];
  const win = samples?.ranges[RANGE_WINDOW];
  const baselineRatio = base?.ratio ?? 0;

  let attributable: number | null = null;
  let excess: number | null = null;
  let windowBudget: number | null = null;
  if (post.events !== null && post.bad !== null && win?.events != null) {
    // A calendar window's budget is for the whole period: scale the traffic so far up to it.
    const periodEvents = win.events / Math.max(bounds.elapsedFraction, 1e-9);
    windowBudget = budgetEvents(periodEvents, slo.target);
    excess = Math.max(0, post.bad - baselineRatio * post.events);
    attributable = windowBudget > 0 ? excess / windowBudget : null;
  } else if (post.ratio !== null) {
    // Ratio-only sources: assume steady traffic, so the post-deploy span is elapsed/period of the events.
    attributable = (Math.max(0, post.ratio - baselineRatio) * (elapsed / bounds.periodMs)) / (1 - slo.target);
  }

  const enough = post.events === null ? post.ratio !== null : post.events >= ar.min_events;
  const projected =
    ar.projected && enough && attributable !== null && elapsed > 0 ? attributable * (within / elapsed) : null;
  const breach = enough && ((attributable ?? 0) >= ar.consumed || (projected ?? 0) >= ar.consumed);
  const minutes = Math.round(elapsed / 60_000);
  const message =
    attributable === null
      ? `${slo.name}: not enough data to attribute burn yet (${post.events ?? 0} tasks since the deploy)`
      : `${slo.name}: this deployment burned ${pct(attributable)} of the ${slo.window} budget beyond its baseline in ${minutes} min` +
        (projected !== null ? ` (projected ${pct(projected)} by ${ar.within})` : '') +
        ` — the auto-revert line is ${pct(ar.consumed)} within ${ar.within}; bad ratio ${pct(post.ratio ?? 0)} after vs ${pct(baselineRatio)} before`;
  return {
    slo: slo.name,
    attributable_consumed: attributable,
    projected_consumed: projected,
    threshold: ar.consumed,
    post,
    baseline_ratio: base?.ratio ?? null,
    excess_bad: excess,
    window_budget: windowBudget,
    elapsed_ms: elapsed,
    breach,
    message,
  };
}

export function assessDeployment(
  policy: Policy,
  watch: CanaryWatch,
  result: TelemetryResult,
  at: number,
): DeploymentAssessment {
  const slos = policy.slos.map((slo) => assessSlo(policy, slo, watch, result.slos[slo.name], at));
  const rank = (a: CanaryAssessment) => Math.max(a.attributable_consumed ?? 0, a.projected_consumed ?? 0);
  const worst = [...slos].sort((a, b) => Number(b.breach) - Number(a.breach) || rank(b) - rank(a))[0] ?? null;
  return {
    breach: policy.auto_revert.enabled && slos.some((s) => s.breach),
    expired: at >= watch.deployed_at + policy.auto_revert.within.ms,
    worst,
    slos,
  };
}

/**
 * The most of a rolling window's budget one deployment can burn within `auto_revert.within` at
 * steady traffic: a total outage burns at 1/(1 - target), so at 95% over 30d an hour is 2.8% at most.
 * Null for calendar windows, whose budget grows through the period.
 */
export function maxRevertConsumed(slo: Slo, withinMs: number): number | null {
  if (slo.window.kind !== 'rolling') return null;
  return withinMs / slo.window.ms / (1 - slo.target);
}
