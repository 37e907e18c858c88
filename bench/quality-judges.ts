import type { RegressionKind } from '../src/scenarios/fleet-model.ts';
import {
  BEFORE_MIN,
  sum,
  type TrialCounts,
  type TrialSpec,
  WATCH_MIN,
} from '../src/scenarios/fleet-trials.ts';

// The two judges the new one is measured against, on the same per-minute counts.

/**
 * The judge before issue 13, as it read the example policy of the time: revert once the point
 * estimate of attributable burn (bad tasks since the deploy beyond the hour before's ratio) reaches
 * 1% of the 30-day budget, with at least 50 tasks seen, no projection.
 */
export function oldJudgeRevertMinute(c: TrialCounts, kind: RegressionKind, spec: TrialSpec): number | null {
  const x = c.bad[kind];
  const d = BEFORE_MIN;
  const n0 = sum(c.n, d - 60, d);
  const p0 = n0 > 0 ? sum(x, d - 60, d) / n0 : 0;
  const budget = spec.budgetRatio * spec.perMinute * 30 * 1440;
  let n1 = 0;
  let x1 = 0;
  for (let m = 1; m <= WATCH_MIN; m++) {
    n1 += c.n[d + m - 1]!;
    x1 += x[d + m - 1]!;
    if (n1 >= 50 && Math.max(0, x1 - p0 * n1) / budget >= 0.01) return m;
  }
  return null;
}

/**
 * The SRE workbook's multi-window multi-burn-rate page, read as a revert: at each minute of the
 * watch, 14.4x over both 1h and 5m, or 6x over both 6h and 30m (windows reach back before the deploy).
 */
export function srePageMinute(c: TrialCounts, kind: RegressionKind, spec: TrialSpec): number | null {
  const x = c.bad[kind];
  const burn = (end: number, minutes: number) => {
    const n = sum(c.n, end - minutes, end);
    return n > 0 ? sum(x, end - minutes, end) / n / spec.budgetRatio : 0;
  };
  for (let m = 1; m <= WATCH_MIN; m++) {
    const end = BEFORE_MIN + m;
    if ((burn(end, 60) >= 14.4 && burn(end, 5) >= 14.4) || (burn(end, 360) >= 6 && burn(end, 30) >= 6))
      return m;
  }
  return null;
}
