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

/** The largest log-likelihood of x bad in n at one bad ratio: at x / n. */
export const lnProfile = (c: Counts): number => (c.n > 0 ? lnBinom(c, c.x / c.n) : 0);

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
  let sd = 0;
  let sv = 0;
  const ds: number[] = [];
  const vs: number[] = [];
  for (let a = 0; a < count; a++) {
    const lo = start + Math.max(0, a - reach);
    const hi = start + Math.min(count, a + reach + 1);
    const na = pn[start + a + 1]! - pn[start + a]!;
    const xa = px[start + a + 1]! - px[start + a]!;
    const nb = pn[hi]! - pn[lo]! - na;
    const xb = px[hi]! - px[lo]! - xa;
    const N = na + nb;
    const X = xa + xb;
    if (na <= 0 || nb <= 0 || X <= 0 || X >= N || N < 2) continue;
    const e = (na * X) / N;
    const v = (na * nb * X * (N - X)) / (N * N * (N - 1));
    const d = (xa - e) ** 2;
    ds.push(d);
    vs.push(v);
    sd += d;
    sv += v;
  }
  if (sv <= 0) return { estimate: 1, upper: 1, blocks: 0 };
  const phi = sd / sv;
  let ss = 0;
  for (let k = 0; k < ds.length; k++) ss += (ds[k]! - phi * vs[k]!) ** 2;
  const se = Math.sqrt(ss) / sv;
  return { estimate: phi, upper: Math.max(1, phi + z * se), blocks: ds.length };
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
