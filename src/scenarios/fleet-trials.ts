import {
  guardSpans,
  type JudgeStatus,
  judgeCounts,
  ONSET_BLOCK_MIN,
  wouldRevert,
} from '../policy/canary-judge.ts';
import {
  arrivals,
  binomial,
  costOver,
  DAY,
  latencyOver,
  MINUTE,
  noisyRatio,
  type RegressionKind,
  trafficShape,
} from './fleet-model.ts';
import { seededRandom } from './random.ts';

// One simulated deploy per trial, as per-minute counts of one scope: six hours before the deploy
// (the baseline and the SRE page's longest window) and the hour of the watch. The quality report
// runs thousands; the tests run the healthy ones to hold the judge's false-revert rate.

export const BEFORE_MIN = 360;
export const WATCH_MIN = 60;

export type OutageCase = 'none' | 'in-progress' | 'mid-watch';

export interface TrialSpec {
  /** Tasks a minute at the deploy (the daily and weekly shape moves it before and after). */
  perMinute: number;
  /** 1 - the SLO target. */
  budgetRatio: number;
  baseFailure: number;
  /** A bad deploy: the SLI that regresses and the failure ratio it steps to, or the latency/cost factor. */
  regression: { kind: RegressionKind; size: number } | null;
  outage: OutageCase;
}

/** Per-minute task and bad counts of each SLI, minute 0 = six hours before the deploy. */
export interface TrialCounts {
  n: Int32Array;
  bad: Record<RegressionKind, Int32Array>;
  /** Whether an outage ran at some minute of [deploy - 15 min, deploy + watch]. */
  outage: OutageCase;
}

export function drawTrial(spec: TrialSpec, seed: number): TrialCounts {
  const rand = seededRandom(seed);
  const total = BEFORE_MIN + WATCH_MIN;
  // Somewhere in a week, so the daily and weekly shape move under the deploy.
  const deployAt = Math.floor(rand() * 7 * 1440) * MINUTE + 4 * DAY;
  let outageFrom = Number.POSITIVE_INFINITY;
  let outageTo = Number.NEGATIVE_INFINITY;
  const level = 0.15 + rand() * 0.35;
  if (spec.outage === 'in-progress') {
    const ago = 1 + Math.floor(rand() * 60);
    outageFrom = BEFORE_MIN - ago;
    outageTo = BEFORE_MIN + 5 + Math.floor(rand() * 55);
  } else if (spec.outage === 'mid-watch') {
    outageFrom = BEFORE_MIN + 1 + Math.floor(rand() * 55);
    outageTo = outageFrom + 10 + Math.floor(rand() * 80);
  }
  const n = new Int32Array(total);
  const bad = { failure: new Int32Array(total), latency: new Int32Array(total), cost: new Int32Array(total) };
  const r = spec.regression;
  for (let i = 0; i < total; i++) {
    const t = deployAt + (i - BEFORE_MIN) * MINUTE;
    const after = i >= BEFORE_MIN;
    const k = arrivals(rand, (spec.perMinute * trafficShape(t)) / trafficShape(deployAt));
    let failure = after && r?.kind === 'failure' ? Math.max(spec.baseFailure, r.size) : spec.baseFailure;
    if (i >= outageFrom && i < outageTo) failure += (1 - failure) * level;
    const lat = latencyOver(after && r?.kind === 'latency' ? r.size : 1);
    const cost = costOver(after && r?.kind === 'cost' ? r.size : 1);
    n[i] = k;
    bad.failure[i] = binomial(rand, k, noisyRatio(rand, failure));
    bad.latency[i] = binomial(rand, k, noisyRatio(rand, lat));
    bad.cost[i] = binomial(rand, k, noisyRatio(rand, cost));
  }
  return { n, bad, outage: spec.outage };
}

export const sum = (a: Int32Array, from: number, to: number) => {
  let s = 0;
  for (let i = Math.max(0, from); i < to; i++) s += a[i]!;
  return s;
};

export interface JudgeSettings {
  confidence: number;
  burnRate: number;
  consumed: number;
  minEvents: number;
  baselineMin: number;
  recentMin: number;
  /** The SLO window, for the share rule's budget at the scope's mean traffic. */
  windowMin: number;
  /** Judge with the onset guard (the bot does); off to measure what it buys. */
  onsetGuard: boolean;
}

/**
 * The new judge on one SLI's counts, looking every minute: the minute of the watch it reverts at
 * (null if never), and its verdict when the watch ends (revert, clear or inconclusive).
 */
export function newJudgeWatch(
  c: TrialCounts,
  kind: RegressionKind,
  spec: TrialSpec,
  s: JudgeSettings,
  wantFinal = true,
): { minute: number | null; status: JudgeStatus } {
  const x = c.bad[kind];
  const d = BEFORE_MIN;
  const base = {
    budgetRatio: spec.budgetRatio,
    baseline: { n: sum(c.n, d - s.baselineMin, d), x: sum(x, d - s.baselineMin, d) },
    recent: guardSpans(s.recentMin).map((r) => ({ n: sum(c.n, d - r, d), x: sum(x, d - r, d) })),
    windowBudget: spec.budgetRatio * spec.perMinute * s.windowMin,
    projectedTasks: null,
    confidence: s.confidence,
    burnRate: s.burnRate,
    consumed: s.consumed,
    minEvents: s.minEvents,
  };
  let n1 = 0;
  let x1 = 0;
  // The onset guard's blocks, as the bot's request gives them: the last one partial.
  const series: Array<{ n: number; x: number }> = [];
  for (let m = 1; m <= WATCH_MIN; m++) {
    const minute = { n: c.n[d + m - 1]!, x: x[d + m - 1]! };
    if ((m - 1) % ONSET_BLOCK_MIN === 0) series.push({ n: 0, x: 0 });
    const block = series[series.length - 1]!;
    block.n += minute.n;
    block.x += minute.x;
    n1 += minute.n;
    x1 += minute.x;
    const look = { ...base, post: { n: n1, x: x1 }, ...(s.onsetGuard ? { postSeries: series } : {}) };
    if (wouldRevert(look)) return { minute: m, status: 'revert' };
  }
  if (!wantFinal) return { minute: null, status: 'watching' };
  const post = { n: n1, x: x1 };
  return { minute: null, status: judgeCounts({ ...base, post, postSeries: series, final: true }).status };
}
