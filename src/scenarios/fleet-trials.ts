import {
  type Guards,
  guardSpans,
  guardsOf,
  type JudgeInput,
  type JudgeStatus,
  judgeCounts,
  ONSET_BLOCK_MIN,
  wouldRevert,
} from '../policy/canary/judge.ts';
import type { Counts } from '../policy/canary/stats.ts';
import {
  arrivals,
  binomial,
  costOver,
  DAY,
  latencyOver,
  MINUTE,
  noisyRatio,
  outageSchedule,
  type RegressionKind,
  trafficShape,
} from './fleet-model.ts';
import { seededRandom } from './random.ts';

// One simulated deploy per trial, as per-minute counts: six hours before the deploy (the baseline
// and the SRE page's longest window) and the hour of the watch. The quality report runs thousands;
// the tests run the healthy ones to hold the judge's false-revert rate.

export const BEFORE_MIN = 360;
export const WATCH_MIN = 60;

/**
 * none: no outage near the deploy; in-progress: one began 1–60 min before it and runs on into the
 * watch; mid-watch: one begins during the watch; natural: outages as the fleet has them (about one
 * every 36 hours, 10–90 min), wherever they fall.
 */
type OutageCase = 'none' | 'in-progress' | 'mid-watch' | 'natural';

interface ScopeSpec {
  /** Tasks a minute at the deploy (the daily and weekly shape moves it before and after). */
  perMinute: number;
  /** 1 - the SLO target. */
  budgetRatio: number;
  baseFailure: number;
}

export interface TrialSpec extends ScopeSpec {
  /** A bad deploy: the SLI that regresses and the failure ratio it steps to, or the latency/cost factor. */
  regression: { kind: RegressionKind; size: number } | null;
  outage: OutageCase;
  /**
   * Another scope the same deploy ships to, through the same outages: its SLOs are the
   * deployment's other SLOs, whose guards the judge shares (the fleet's busy paid scope).
   */
  companion?: ScopeSpec;
}

/** Per-minute task and bad counts of each SLI of one scope, minute 0 = six hours before the deploy. */
interface ScopeCounts {
  n: Int32Array;
  bad: Record<RegressionKind, Int32Array>;
}

export interface TrialCounts extends ScopeCounts {
  outage: OutageCase;
  companion: ScopeCounts | null;
}

interface Schedule {
  deployAt: number;
  /** Minute indexes [from, to) and the share of tasks failing. */
  outages: Array<{ from: number; to: number; level: number }>;
}

function drawScope(
  rand: () => number,
  scope: ScopeSpec,
  s: Schedule,
  r: TrialSpec['regression'],
): ScopeCounts {
  const total = BEFORE_MIN + WATCH_MIN;
  const n = new Int32Array(total);
  const bad = { failure: new Int32Array(total), latency: new Int32Array(total), cost: new Int32Array(total) };
  for (let i = 0; i < total; i++) {
    const t = s.deployAt + (i - BEFORE_MIN) * MINUTE;
    const after = i >= BEFORE_MIN;
    const k = arrivals(rand, (scope.perMinute * trafficShape(t)) / trafficShape(s.deployAt));
    let failure = after && r?.kind === 'failure' ? Math.max(scope.baseFailure, r.size) : scope.baseFailure;
    for (const o of s.outages) if (i >= o.from && i < o.to) failure += (1 - failure) * o.level;
    const lat = latencyOver(after && r?.kind === 'latency' ? r.size : 1);
    const cost = costOver(after && r?.kind === 'cost' ? r.size : 1);
    n[i] = k;
    bad.failure[i] = binomial(rand, k, noisyRatio(rand, failure));
    bad.latency[i] = binomial(rand, k, noisyRatio(rand, lat));
    bad.cost[i] = binomial(rand, k, noisyRatio(rand, cost));
  }
  return { n, bad };
}

export function drawTrial(spec: TrialSpec, seed: number): TrialCounts {
  const rand = seededRandom(seed);
  // Somewhere in a week, so the daily and weekly shape move under the deploy.
  const s: Schedule = { deployAt: Math.floor(rand() * 7 * 1440) * MINUTE + 4 * DAY, outages: [] };
  const level = 0.15 + rand() * 0.35;
  if (spec.outage === 'in-progress') {
    const from = BEFORE_MIN - (1 + Math.floor(rand() * 60));
    s.outages.push({ from, to: BEFORE_MIN + 5 + Math.floor(rand() * 55), level });
  } else if (spec.outage === 'mid-watch') {
    const from = BEFORE_MIN + 1 + Math.floor(rand() * 55);
    s.outages.push({ from, to: from + 10 + Math.floor(rand() * 80), level });
  } else if (spec.outage === 'natural') {
    // From 90 minutes before the trial's first minute, so one can be running when it starts.
    for (const o of outageSchedule(rand, -90 * MINUTE, (BEFORE_MIN + WATCH_MIN) * MINUTE)) {
      s.outages.push({ from: Math.floor(o.start / MINUTE), to: Math.ceil(o.end / MINUTE), level: o.failure });
    }
  }
  const own = drawScope(rand, spec, s, spec.regression);
  const companion = spec.companion
    ? drawScope(seededRandom(seed ^ 0x7f4a7c15), spec.companion, s, spec.regression)
    : null;
  return { ...own, outage: spec.outage, companion };
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
  /** Judge with the onset guard and the other SLOs' hints (the bot does); off to measure what they buy. */
  onsetGuard: boolean;
}

/** One SLI's watch as the bot sees it minute by minute: fixed baseline parts, growing post-deploy parts. */
class WatchView {
  private readonly fixed: Omit<JudgeInput, 'post' | 'final' | 'postSeries' | 'hints'>;
  readonly series: Counts[] = [];
  post: Counts = { n: 0, x: 0 };

  private readonly c: ScopeCounts;
  private readonly kind: RegressionKind;

  constructor(c: ScopeCounts, kind: RegressionKind, scope: ScopeSpec, s: JudgeSettings) {
    this.c = c;
    this.kind = kind;
    const x = c.bad[kind];
    const d = BEFORE_MIN;
    this.fixed = {
      budgetRatio: scope.budgetRatio,
      baseline: { n: sum(c.n, d - s.baselineMin, d), x: sum(x, d - s.baselineMin, d) },
      recent: guardSpans(s.recentMin).map((r) => ({ n: sum(c.n, d - r, d), x: sum(x, d - r, d) })),
      // The minutes before the deploy, for the timing guard (one block per ONSET_BLOCK_MIN).
      preSeries: Array.from(
        { length: Math.floor(Math.min(s.recentMin, s.baselineMin) / ONSET_BLOCK_MIN) },
        (_, k) => {
          const from =
            d -
            Math.floor(Math.min(s.recentMin, s.baselineMin) / ONSET_BLOCK_MIN) * ONSET_BLOCK_MIN +
            k * ONSET_BLOCK_MIN;
          return { n: sum(c.n, from, from + ONSET_BLOCK_MIN), x: sum(x, from, from + ONSET_BLOCK_MIN) };
        },
      ),
      windowBudget: scope.budgetRatio * scope.perMinute * s.windowMin,
      projectedTasks: null,
      confidence: s.confidence,
      burnRate: s.burnRate,
      consumed: s.consumed,
      minEvents: s.minEvents,
    };
  }

  /** Adds minute m of the watch (1-based). */
  advance(m: number): void {
    const i = BEFORE_MIN + m - 1;
    const minute = { n: this.c.n[i]!, x: this.c.bad[this.kind][i]! };
    if ((m - 1) % ONSET_BLOCK_MIN === 0) this.series.push({ n: 0, x: 0 });
    const block = this.series[this.series.length - 1]!;
    block.n += minute.n;
    block.x += minute.x;
    this.post = { n: this.post.n + minute.n, x: this.post.x + minute.x };
  }

  look(guards: boolean, hints?: () => Guards | null): Omit<JudgeInput, 'final'> {
    return {
      ...this.fixed,
      post: this.post,
      ...(guards ? { postSeries: this.series } : {}),
      ...(guards && hints ? { hints } : {}),
    };
  }
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
  const view = new WatchView(c, kind, spec, s);
  // The companion's failure SLO: a fleet-wide outage shows there first.
  const other =
    c.companion && spec.companion ? new WatchView(c.companion, 'failure', spec.companion, s) : null;
  const hints = other ? () => guardsOf(other.look(true)) : undefined;
  for (let m = 1; m <= WATCH_MIN; m++) {
    view.advance(m);
    other?.advance(m);
    if (wouldRevert(view.look(s.onsetGuard, hints))) return { minute: m, status: 'revert' };
  }
  if (!wantFinal) return { minute: null, status: 'watching' };
  return { minute: null, status: judgeCounts({ ...view.look(true, hints), final: true }).status };
}
