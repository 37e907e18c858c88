// Always-valid evidence about the difference of two binomial rates: the bad ratio after a deploy
// (p1) against the bad ratio before it (p0).
//
// The statistic is a mixture likelihood ratio over the composite null H0: p1 - p0 <= delta:
//
//   E = ∫∫ L(p0, p1) dπ(p0) dπ(p1)  /  sup_{p1 - p0 <= delta} L(p0, p1)
//
// with Jeffreys Beta(1/2, 1/2) mixing priors. For every (p0, p1) in the null, the mixture over
// the likelihood at that point is a nonnegative martingale that starts at 1 as tasks arrive (the
// baseline's tasks are simply its first observations), and the denominator is at least the
// likelihood at the true point, so E is an e-process: P(E ever reaches 1/alpha) <= alpha, however
// often it is looked at (Ville's inequality). This is the mixture SPRT, made composite in the
// nuisance p0 by the maximum in the denominator (sequential universal inference).

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; ~15 digits). */
function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const lnBeta = (a: number, b: number) => lnGamma(a) + lnGamma(b) - lnGamma(a + b);

const PRIOR = 0.5;
const LN_BETA_PRIOR = lnBeta(PRIOR, PRIOR);

export interface Counts {
  /** Tasks. */
  n: number;
  /** Bad tasks: failed, or over the latency/cost threshold. */
  x: number;
}

/** ln of the Beta-mixture marginal likelihood of x bad in n. */
function lnMixture(c: Counts): number {
  return lnBeta(PRIOR + c.x, PRIOR + c.n - c.x) - LN_BETA_PRIOR;
}

/** x ln p + (n - x) ln(1 - p), with 0 ln 0 = 0. */
function lnBinom(c: Counts, p: number): number {
  const bad = c.x === 0 ? 0 : c.x * Math.log(p);
  const good = c.n - c.x === 0 ? 0 : (c.n - c.x) * Math.log(1 - p);
  return bad + good;
}

const clamp01 = (p: number) => Math.min(1, Math.max(0, p));

/** The largest log-likelihood with p1 = p0 + delta: concave in p0, so bisection on its slope. */
function lnBoundaryMax(base: Counts, post: Counts, delta: number): number {
  let lo = Math.max(0, -delta);
  let hi = Math.min(1, 1 - delta);
  const at = (p0: number) => lnBinom(base, p0) + lnBinom(post, p0 + delta);
  const ends = Math.max(at(lo), at(hi));
  if (!(hi > lo)) return ends;
  const slope = (p0: number) => {
    const p1 = p0 + delta;
    return (
      (base.x > 0 ? base.x / p0 : 0) -
      (base.n - base.x > 0 ? (base.n - base.x) / (1 - p0) : 0) +
      (post.x > 0 ? post.x / p1 : 0) -
      (post.n - post.x > 0 ? (post.n - post.x) / (1 - p1) : 0)
    );
  };
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (slope(mid) > 0) lo = mid;
    else hi = mid;
  }
  return Math.max(ends, at((lo + hi) / 2));
}

/**
 * ln E against H0: p1 - p0 <= delta (`side: 'above'`, evidence the deploy is at least delta
 * worse) or H0: p1 - p0 >= delta (`side: 'below'`, evidence it is less than delta worse).
 */
export function lnEvidence(base: Counts, post: Counts, line: number, side: 'above' | 'below'): number {
  const delta = Math.min(1, Math.max(-1, line));
  const p0 = base.n > 0 ? base.x / base.n : 0;
  const p1 = post.n > 0 ? post.x / post.n : 0;
  const inNull = side === 'above' ? p1 - p0 <= delta : p1 - p0 >= delta;
  let sup: number;
  if (inNull) sup = lnBinom(base, clamp01(p0)) + lnBinom(post, clamp01(p1));
  else if (delta === 0) {
    // No difference allowed: the maximum is at the pooled ratio (and no search is needed).
    const pooled = (base.x + post.x) / (base.n + post.n);
    sup = lnBinom(base, pooled) + lnBinom(post, pooled);
  } else sup = lnBoundaryMax(base, post, delta);
  return lnMixture(base) + lnMixture(post) - sup;
}

/**
 * The always-valid confidence bounds on p1 - p0 at level 1 - alpha: the differences no e-process
 * has rejected. `low` is null when even -1 is not rejected (no evidence at all), likewise `high`.
 */
export function differenceBounds(
  base: Counts,
  post: Counts,
  alpha: number,
): { low: number | null; high: number | null } {
  const need = Math.log(1 / alpha);
  const search = (side: 'above' | 'below') => {
    // 'above' rejects every delta below the bound: find the largest rejected one.
    const rejected = (d: number) => lnEvidence(base, post, d, side) >= need;
    const edge = side === 'above' ? -1 : 1;
    if (!rejected(edge)) return null;
    let inside = edge;
    let outside = -edge;
    if (rejected(outside)) return outside;
    for (let i = 0; i < 40; i++) {
      const mid = (inside + outside) / 2;
      if (rejected(mid)) inside = mid;
      else outside = mid;
    }
    return inside;
  };
  return { low: search('above'), high: search('below') };
}

// Against a baseline fixed before the deploy: the baseline is all in before the first look, so its
// bad ratio p0 can be bounded once, at a fixed sample, and the deploy's ratio p1 tested sequentially
// against that bound plus the line. With P(p0 > U) <= alpha0 (the baseline's bound) and the
// sequential test at level alpha1, a revert is wrong with probability at most alpha0 + alpha1 however
// often the watcher looks. The sequential test is a mixture likelihood ratio over alternatives above
// the line, so its power goes where regressions are: the joint mixture over (p0, p1) above pays
// for a prior over p0 that thousands of baseline tasks have already pinned down (about 2 nats of
// evidence at a few tasks a minute, half the evidence a 1% -> 10% regression gathers in an hour).

const kl = (a: number, b: number) =>
  (a > 0 ? a * Math.log(a / b) : 0) + (a < 1 ? (1 - a) * Math.log((1 - a) / (1 - b)) : 0);

/**
 * The one-sided Chernoff (KL) confidence bound on a bad ratio from fixed counts: with probability
 * at least 1 - alpha the true ratio is at most `upper` (at least `lower`). No counts: 1 (0).
 */
export function ratioBound(c: Counts, alpha: number, side: 'upper' | 'lower'): number {
  if (!(c.n > 0)) return side === 'upper' ? 1 : 0;
  // A watch's baseline is the same at every look: its bound is worked out once.
  const key = `${c.n}:${c.x}:${alpha}:${side}`;
  const hit = BOUNDS.get(key);
  if (hit !== undefined) return hit;
  const b = kernelBound(c, alpha, side);
  if (BOUNDS.size >= 10_000) BOUNDS.clear();
  BOUNDS.set(key, b);
  return b;
}

const BOUNDS = new Map<string, number>();

function kernelBound(c: Counts, alpha: number, side: 'upper' | 'lower'): number {
  const ph = Math.min(1, Math.max(0, c.x / c.n));
  const need = Math.log(1 / alpha) / c.n;
  let inside = ph;
  let outside = side === 'upper' ? 1 : 0;
  if (kl(ph, outside === 1 ? 1 - 1e-15 : 1e-15) <= need) return outside;
  for (let i = 0; i < 50; i++) {
    const mid = (inside + outside) / 2;
    if (kl(ph, mid) <= need) inside = mid;
    else outside = mid;
  }
  return inside;
}

/** The mixture's alternatives: a log-uniform prior over p / q from 1 to MIX_RANGE, MIX_POINTS points. */
const MIX_RANGE = 50;
const MIX_POINTS = Math.ceil(Math.log(MIX_RANGE) / 0.3);
const MIX_U = Array.from({ length: MIX_POINTS }, (_, k) => ((k + 0.5) / MIX_POINTS) * Math.log(MIX_RANGE));
const EDGE = 1e-9;
/** e^u and e^-u of each alternative: the same for every call (each watch's bounds make dozens). */
const MIX_EXP_ABOVE = Float64Array.from(MIX_U, (u) => Math.exp(u));
const MIX_EXP_BELOW = Float64Array.from(MIX_U, (u) => Math.exp(-u));
/** Scratch for the mixture's terms (the judge runs on one thread). */
const TERMS = new Float64Array(MIX_POINTS);

/**
 * ln of the mixture e-value of these counts against H0: p <= q (`above`: evidence p is over q) or
 * H0: p >= q (`below`). Each alternative's likelihood ratio to q is a nonnegative supermartingale
 * under the null, and so is their average: P(it ever reaches 1/alpha) <= alpha (Ville).
 */
export function lnOneSample(post: Counts, q: number, side: 'above' | 'below'): number {
  if (side === 'above' ? q >= 1 - EDGE : q <= EDGE) return Number.NEGATIVE_INFINITY;
  const base = Math.min(1 - EDGE, Math.max(EDGE, q));
  const x = post.x;
  const y = post.n - post.x;
  const lq = Math.log(base);
  const lq1 = Math.log1p(-base);
  const sign = side === 'above' ? 1 : -1;
  const scale = side === 'above' ? MIX_EXP_ABOVE : MIX_EXP_BELOW;
  let top = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < MIX_POINTS; k++) {
    const u = sign * MIX_U[k]!;
    const raw = base * scale[k]!;
    // ln p - ln q is u itself, unless p had to be kept inside (0, 1).
    const p = Math.min(1 - EDGE, Math.max(raw, EDGE));
    const t = x * (p === raw ? u : Math.log(p) - lq) + y * (Math.log1p(-p) - lq1);
    TERMS[k] = t;
    if (t > top) top = t;
  }
  let sum = 0;
  for (let k = 0; k < MIX_POINTS; k++) sum += Math.exp(TERMS[k]! - top);
  return top + Math.log(sum / MIX_POINTS);
}

/**
 * ln E against H0: p1 - p0 <= line (`above`) or >= line (`below`), p0 bounded from the fixed
 * baseline at level alpha0: the e-value to hold against 1/alpha1.
 */
export function lnEvidenceFixed(
  base: Counts,
  post: Counts,
  line: number,
  side: 'above' | 'below',
  alpha0: number,
): number {
  const p0 = ratioBound(base, alpha0, side === 'above' ? 'upper' : 'lower');
  return lnOneSample(post, p0 + line, side);
}

/**
 * The always-valid bounds on p1 - p0 from the fixed-baseline test: alpha0 for the baseline's bound,
 * alpha1 for the sequential test on each side. Null where even the widest line is not rejected.
 */
export function fixedBounds(
  base: Counts,
  post: Counts,
  alpha0: number,
  alpha1: number,
): { low: number | null; high: number | null } {
  const need = Math.log(1 / alpha1);
  const ph = post.n > 0 ? Math.min(1, Math.max(0, post.x / post.n)) : 0;
  const search = (side: 'above' | 'below') => {
    const p0 = ratioBound(base, alpha0, side === 'above' ? 'upper' : 'lower');
    // 'above' rejects every q below the bound: the largest rejected q, as a difference from p0.
    // Only a q on the far side of the deploy's own ratio can be rejected: the search starts there.
    // Searched on ln q ('above') or ln(1 - q) ('below'), where the evidence falls off almost in a
    // straight line: regula falsi (Illinois) takes a few evaluations where bisection takes twenty.
    const toQ = (v: number) => (side === 'above' ? Math.exp(v) : 1 - Math.exp(v));
    const f = (v: number) => lnOneSample(post, toQ(v), side) - need;
    const edge = Math.log(EDGE);
    let fi = f(edge);
    if (!(fi >= 0)) return null;
    let inside = edge;
    let outside = Math.log(Math.max(EDGE, Math.min(1 - EDGE, side === 'above' ? ph : 1 - ph)));
    let fo = f(outside);
    if (fo >= 0) {
      outside = Math.log(1 - EDGE);
      fo = f(outside);
      if (fo >= 0) return toQ(outside) - p0;
    }
    if (!Number.isFinite(fo)) fo = -need - 50;
    let keep = 0;
    for (let i = 0; i < 40 && Math.abs(outside - inside) > 1e-4; i++) {
      let mid = (inside * fo - outside * fi) / (fo - fi);
      if (!(mid > Math.min(inside, outside) && mid < Math.max(inside, outside))) mid = (inside + outside) / 2;
      const fm = f(mid);
      if (fm >= 0) {
        inside = mid;
        fi = fm;
        if (keep === -1) fo /= 2;
        keep = -1;
      } else {
        outside = mid;
        fo = fm;
        if (keep === 1) fi /= 2;
        keep = 1;
      }
    }
    return toQ(inside) - p0;
  };
  return { low: search('above'), high: search('below') };
}

/** Counts scaled by 1/phi: what `n` tasks are worth as independent draws when failures cluster. */
export const discounted = (c: Counts, phi: number): Counts => (phi <= 1 ? c : { n: c.n / phi, x: c.x / phi });

export interface Dispersion {
  /** Variance of the bad counts over the binomial's (1 = independent failures). */
  estimate: number;
  /** The one-sided upper confidence bound used to discount the evidence (never below 1). */
  upper: number;
  /** Blocks that carried information (a bad and a good task in the block and its neighbours). */
  blocks: number;
}

/**
 * Overdispersion of the bad counts from their own block-to-block variation. Each block is compared
 * with its neighbours (up to `reach` blocks either side) as a 2×2 table conditioned on its margins:
 * under independent failures at a ratio steady over that neighbourhood, (x - E)² has expectation
 * exactly V (the hypergeometric variance), whatever the ratio, so slow changes (the hour of the
 * day, a long incident) cancel and what is left is clustering at the scale of a few blocks. The
 * estimate is Σ(x - E)² / ΣV; its upper bound adds z standard errors (a sandwich estimate).
 */
export function dispersionOf(series: readonly Counts[], block: number, reach: number, z: number): Dispersion {
  const pn = [0];
  const px = [0];
  for (let i = 0; i < series.length; i += block) {
    let n = 0;
    let x = 0;
    for (let j = i; j < Math.min(series.length, i + block); j++) {
      n += series[j]!.n;
      x += series[j]!.x;
    }
    pn.push(pn.at(-1)! + n);
    px.push(px.at(-1)! + x);
  }
  return dispersionOfSums(pn, px, 0, pn.length - 1, reach, z);
}

/**
 * The same estimate on prefix sums of the blocks (block k is sums[start + k + 1] - sums[start + k],
 * `count` of them): what the watcher reads from its minute grid without building the blocks.
 */
export function dispersionOfSums(
  pn: ArrayLike<number>,
  px: ArrayLike<number>,
  start: number,
  count: number,
  reach: number,
  z: number,
): Dispersion {
  // Two passes over the blocks, nothing kept: the ratio first, then the spread of the terms about it.
  const term = (a: number, out: { d: number; v: number }): boolean => {
    const lo = start + Math.max(0, a - reach);
    const hi = start + Math.min(count, a + reach + 1);
    const na = pn[start + a + 1]! - pn[start + a]!;
    const xa = px[start + a + 1]! - px[start + a]!;
    const nb = pn[hi]! - pn[lo]! - na;
    const xb = px[hi]! - px[lo]! - xa;
    const N = na + nb;
    const X = xa + xb;
    if (na <= 0 || nb <= 0 || X <= 0 || X >= N || N < 2) return false;
    const e = (na * X) / N;
    out.v = (na * nb * X * (N - X)) / (N * N * (N - 1));
    out.d = (xa - e) ** 2;
    return true;
  };
  const t = { d: 0, v: 0 };
  let sd = 0;
  let sv = 0;
  let blocks = 0;
  for (let a = 0; a < count; a++) {
    if (!term(a, t)) continue;
    sd += t.d;
    sv += t.v;
    blocks++;
  }
  if (sv <= 0) return { estimate: 1, upper: 1, blocks: 0 };
  const phi = sd / sv;
  let ss = 0;
  for (let a = 0; a < count; a++) if (term(a, t)) ss += (t.d - phi * t.v) ** 2;
  const se = Math.sqrt(ss) / sv;
  return { estimate: phi, upper: Math.max(1, phi + z * se), blocks };
}

/** The Wilson score interval for k successes in n trials at normal quantile z (1.96: 95%). */
export function wilson(k: number, n: number, z = 1.96): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const mid = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { low: Math.max(0, mid - half), high: Math.min(1, mid + half) };
}
