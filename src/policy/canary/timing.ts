import type { Counts } from './stats.ts';

// When did the bad ratio change? A deploy's effect is a step at the minute it went live, and it
// lasts while the deploy is live. A provider incident builds up over minutes from a minute of its
// own — before the deploy (in progress when it went live) or after it (begun mid-watch) — and
// ends when the provider recovers. The timing test fits both kinds of change to the minutes
// around the deploy, on every SLO of the deployment that changed at all (an incident fails and
// slows tasks in every scope at once, so the busiest scope times it best), and says how much
// likelier an incident-shaped change makes the counts than a step at the deploy.
//
// The models, for one SLO whose ratio was `a` before the window (its far baseline):
//  - deploy: a before the deploy minute, c (>= a) from it on;
//  - ramp at t != 0: a before minute t, rising linearly to c over r minutes, c after (r = 1 is a
//    step), lasting to now;
//  - window [t, e): a step up at t and back down at e (e before now): an incident come and gone
//    within the watch (0 < t), or one in progress at the deploy that ended since (t < 0 <= e).
// Each is fitted at its best c (a profile likelihood). The incident models are averaged under a
// prior (a third each to ramps from before the deploy, ramps from after it, and windows; every
// onset alike within a family) and held against the deploy's step: a Bayes factor. The average,
// not the best of them, is what keeps a true step safe: among some 700 models one nearly always
// fits a stray failure next to the deploy. Over several SLOs the log-likelihoods add up model by
// model; an SLO the change did not reach has no say (see timeChange).

export interface Minutes {
  /** The bad ratio before the window: the far baseline, what the scope ran at. */
  before: number;
  /** The last minutes before the deploy, oldest first. */
  pre: readonly Counts[];
  /** The minutes since the deploy. */
  post: readonly Counts[];
  /** The overdispersion point estimate: each count weighs 1/phi of an independent draw. */
  phi: number;
}

export type Timing =
  /** A change that began `at` minutes from the deploy (negative: before it), full after `ramp` minutes, lasting. */
  | { kind: 'ramp'; at: number; ramp: number; ln: number }
  /** A change from `at` to `until` minutes from the deploy, over since. */
  | { kind: 'window'; at: number; until: number; ln: number };

/** Ramp lengths tried, in minutes (1: a step). */
const RAMPS = [1, 2, 3, 5, 8, 12];
const EPS = 1e-9;

interface Prepared {
  a: number;
  la: number;
  la1: number;
  /** Prefix sums over the window's minutes: tasks, bad, and the log-likelihood at `a`. */
  N: Float64Array;
  X: Float64Array;
  L: Float64Array;
  n: Float64Array;
  x: Float64Array;
  /** Index of the deploy minute in the window. */
  d: number;
  w: number;
}

function prepare(m: Minutes): Prepared {
  const phi = Math.max(1, m.phi);
  const all = [...m.pre, ...m.post];
  const w = all.length;
  const a = Math.min(1 - 1e-6, Math.max(1e-6, m.before));
  const la = Math.log(a);
  const la1 = Math.log(1 - a);
  const N = new Float64Array(w + 1);
  const X = new Float64Array(w + 1);
  const L = new Float64Array(w + 1);
  const n = new Float64Array(w);
  const x = new Float64Array(w);
  for (let i = 0; i < w; i++) {
    n[i] = all[i]!.n / phi;
    x[i] = Math.min(all[i]!.x, all[i]!.n) / phi;
    N[i + 1] = N[i]! + n[i]!;
    X[i + 1] = X[i]! + x[i]!;
    L[i + 1] = L[i]! + x[i]! * la + (n[i]! - x[i]!) * la1;
  }
  return { a, la, la1, N, X, L, n, x, d: m.pre.length, w };
}

/** x ln p + (n - x) ln(1 - p), 0 ln 0 = 0. */
const ll = (n: number, x: number, p: number) =>
  (x > 0 ? x * Math.log(p) : 0) + (n - x > 0 ? (n - x) * Math.log(1 - p) : 0);

/** The best log-likelihood of counts at a ratio of at least a. */
function levelAtLeast(s: Prepared, n: number, x: number): number {
  if (n <= 0) return 0;
  const c = Math.min(1 - EPS, Math.max(s.a, x / n));
  return ll(n, x, c);
}

/** At a from the window's start to i, c (>= a, at its best) from i to j, a again from j to the end. */
function stepWindow(s: Prepared, i: number, j: number): number {
  const inside = levelAtLeast(s, s.N[j]! - s.N[i]!, s.X[j]! - s.X[i]!);
  return s.L[i]! + inside + (s.L[s.w]! - s.L[j]!);
}

/** A ramp from minute index i over r minutes to c (>= a, at its best), lasting to the end. */
function ramp(s: Prepared, i: number, r: number): number {
  if (r === 1) return stepWindow(s, i, s.w);
  const full = Math.min(s.w, i + r - 1);
  const nf = s.N[s.w]! - s.N[full]!;
  const xf = s.X[s.w]! - s.X[full]!;
  // The ramp's minutes, each at a + (c - a)(k + 1)/r: the log-likelihood is concave in c, so
  // Newton's method from the pooled ratio, kept inside a shrinking bracket.
  const derivs = (c: number) => {
    let g = 0;
    let h = 0;
    if (nf > 0) {
      g += xf / c - (nf - xf) / (1 - c);
      h -= xf / (c * c) + (nf - xf) / ((1 - c) * (1 - c));
    }
    for (let k = i; k < full; k++) {
      const f = (k - i + 1) / r;
      const p = s.a + (c - s.a) * f;
      const bad = s.x[k]!;
      const good = s.n[k]! - bad;
      g += f * (bad / p - good / (1 - p));
      h -= f * f * (bad / (p * p) + good / ((1 - p) * (1 - p)));
    }
    return { g, h };
  };
  let lo = s.a;
  let hi = 1 - EPS;
  let c = lo;
  if (derivs(lo).g > 0) {
    const n0 = nf + (s.N[full]! - s.N[i]!);
    c = Math.min(hi, Math.max(lo, n0 > 0 ? (xf + (s.X[full]! - s.X[i]!)) / n0 : lo));
    for (let it = 0; it < 30; it++) {
      const { g, h } = derivs(c);
      if (g > 0) lo = c;
      else hi = c;
      const next = h < 0 ? c - g / h : Number.NaN;
      const inside = next > lo && next < hi ? next : (lo + hi) / 2;
      if (Math.abs(inside - c) < 1e-10) {
        c = inside;
        break;
      }
      c = inside;
    }
  }
  let sum = s.L[i]! + ll(nf, xf, c);
  for (let k = i; k < full; k++) sum += ll(s.n[k]!, s.x[k]!, s.a + ((c - s.a) * (k - i + 1)) / r);
  return sum;
}

/**
 * What another SLO's change must gain over a steady ratio to have a say (ln): a failure or two in a
 * quiet scope near the deploy is noise, not a change to time by.
 */
const CHANGE_COST = Math.log(20);
/** How much worse than a step at the deploy (ln) a model may fit this SLO's own counts and still be timed by the others. */
const CONTRADICTS = Math.log(3);
/** The most (ln) one other SLO can add to a model over the deploy's step: a change of its own cannot outvote this SLO. */
const SWAY = Math.log(1000);

/** The onsets the alternatives are spread over, in minutes either side of the deploy. */
const SPREAD_MIN = 60;

/** Every model's log-likelihood for one SLO, in a fixed order shared by all SLOs of the deployment. */
interface Scores {
  deploy: number;
  steady: number;
  alt: Float64Array;
  /** ln of each alternative's prior weight. */
  weight: Float64Array;
  keys: Timing[];
}

const CACHE = new WeakMap<readonly Counts[], Scores>();

function scores(m: Minutes): Scores {
  const hit = CACHE.get(m.post);
  if (hit && hit.alt.length > 0) return hit;
  const s = prepare(m);
  const keys: Timing[] = [];
  const out: number[] = [];
  const w: number[] = [];
  // Three families with a third of the prior each: ramps from before the deploy, ramps from after
  // it, and windows (come and gone). Within a family every onset (and ramp, or end) is alike; the
  // onsets after the deploy are spread over the whole watch's SPREAD_MIN minutes, those not yet
  // reached weighing as a steady ratio so far, so the prior does not move as the watch goes on.
  const before = Math.min(s.d, SPREAD_MIN) - 1;
  const lnRamp = Math.log(RAMPS.length);
  for (let i = s.d - before; i < s.w; i++) {
    if (i === s.d) continue;
    const lnOnset = i < s.d ? Math.log(Math.max(1, before)) : Math.log(SPREAD_MIN - 1);
    for (const r of RAMPS) {
      keys.push({ kind: 'ramp', at: i - s.d, ramp: r, ln: 0 });
      out.push(ramp(s, i, Math.min(r, s.w - i)));
      w.push(-Math.log(3) - lnOnset - lnRamp);
    }
  }
  const reached = s.w - s.d - 1;
  if (reached < SPREAD_MIN - 1) {
    keys.push({ kind: 'ramp', at: s.w - s.d, ramp: 1, ln: 0 });
    out.push(s.L[s.w]!);
    w.push(-Math.log(3) + Math.log((SPREAD_MIN - 1 - reached) / (SPREAD_MIN - 1)));
  }
  // Windows: an incident come and gone since the deploy, or one in progress that ended since.
  const pairs = before * SPREAD_MIN + ((SPREAD_MIN - 1) * (SPREAD_MIN - 2)) / 2;
  for (let i = s.d - before; i < s.w - 1; i++) {
    if (i === s.d) continue;
    for (let j = Math.max(i + 1, s.d + 1); j < s.w; j++) {
      keys.push({ kind: 'window', at: i - s.d, until: j - s.d, ln: 0 });
      out.push(stepWindow(s, i, j));
      w.push(-Math.log(3) - Math.log(pairs));
    }
  }
  const res: Scores = {
    deploy: stepWindow(s, s.d, s.w),
    steady: s.L[s.w]!,
    alt: Float64Array.from(out),
    weight: Float64Array.from(w),
    keys,
  };
  CACHE.set(m.post, res);
  return res;
}

export interface TimingFinding {
  /** The likeliest incident-shaped change (its `ln`: how much better it fits than a step at the deploy). */
  best: Timing;
  /**
   * ln of the Bayes factor of an incident-shaped change (any of them, under the prior above)
   * against a step at the deploy: the evidence the change is not the deploy's.
   */
  ln: number;
  /** The same over the changes that began after the deploy only (null: none in the window yet). */
  after: { best: Timing; ln: number } | null;
}

/**
 * How much better an incident-shaped change explains the minutes than a step at the deploy, over
 * `own` and the deployment's other SLOs that changed. Null when there are no minutes to tell by.
 */
export function timeChange(own: Minutes, others: readonly Minutes[] = []): TimingFinding | null {
  if (own.post.length === 0 || own.pre.length < 2) return null;
  const mine = scores(own);
  if (mine.alt.length === 0) return null;
  const joint = Float64Array.from(mine.alt);
  let deploy = mine.deploy;
  for (const o of others) {
    if (o.pre.length !== own.pre.length || o.post.length !== own.post.length) continue;
    // Each other SLO either changed as the model says or did not change at all, whichever fits it
    // better: one the change did not reach has no say. It speaks only for models that this SLO's
    // own counts do not contradict (fit at most CONTRADICTS worse than the deploy's step), and by
    // at most SWAY, so a change of its own (a drift in the task mix, say) cannot time this SLO's.
    const s = scores(o);
    const still = s.steady + CHANGE_COST;
    const atDeploy = Math.max(s.deploy, still);
    for (let k = 0; k < joint.length; k++)
      joint[k]! +=
        mine.alt[k]! >= mine.deploy - CONTRADICTS
          ? Math.min(Math.max(s.alt[k]!, still), atDeploy + SWAY)
          : atDeploy;
    deploy += atDeploy;
  }
  let at = 0;
  let top = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < joint.length; k++) {
    const v = joint[k]! + mine.weight[k]!;
    if (v > top) {
      top = v;
      at = k;
    }
  }
  let sum = 0;
  // The changes that began after the deploy, on their own: the deploy still answers for the
  // minutes before them, so taking one for an incident delays a revert, never blocks it.
  let sumAfter = 0;
  let atAfter = -1;
  let topAfter = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < joint.length; k++) {
    const v = joint[k]! + mine.weight[k]! - top;
    sum += Math.exp(v);
    if (mine.keys[k]!.at > 0) {
      sumAfter += Math.exp(v);
      if (v > topAfter) {
        topAfter = v;
        atAfter = k;
      }
    }
  }
  const after =
    atAfter < 0
      ? null
      : {
          best: { ...mine.keys[atAfter]!, ln: joint[atAfter]! - deploy },
          ln: top + Math.log(sumAfter) - deploy,
        };
  return { best: { ...mine.keys[at]!, ln: joint[at]! - deploy }, ln: top + Math.log(sum) - deploy, after };
}

/**
 * For an incident found building up across the deploy: how much better (ln) its minutes fit a step
 * at its onset with the deploy stepping further on top, than the incident's ramp alone. Well
 * above 0, the deploy made things worse than the incident had: judge it against the incident's
 * minutes before it.
 */
export function deployOnTop(m: Minutes, t: Timing): number {
  if (t.kind !== 'ramp' || t.at >= 0) return Number.NEGATIVE_INFINITY;
  const s = prepare(m);
  const i = s.d + t.at;
  if (i < 0) return Number.NEGATIVE_INFINITY;
  const first = levelAtLeast(s, s.N[s.d]! - s.N[i]!, s.X[s.d]! - s.X[i]!);
  const second = levelAtLeast(s, s.N[s.w]! - s.N[s.d]!, s.X[s.w]! - s.X[s.d]!);
  return s.L[i]! + first + second - ramp(s, i, Math.min(t.ramp, s.w - i));
}
