import {
  type Counts,
  type Dispersion,
  differenceBounds,
  discounted,
  dispersionOf,
  lnEvidence,
  lnProfile,
} from './stats.ts';

// The canary verdict for one SLO from counts: tasks and bad tasks before and after the deploy.
// Both of the policy's lines are lines on the attributable bad ratio p1 - p0:
//  - the rate rule: attributable burn (p1 - p0) / (1 - target) >= auto_revert.burn_rate;
//  - the share rule: the deploy's attributable bad tasks by the end of the watch (at the traffic
//    seen so far, or only those already seen when projection is off) >= auto_revert.consumed of
//    the window's budget, i.e. p1 - p0 >= consumed × budget / tasks.
// A revert needs always-valid evidence (canary-stats.ts) at the policy's confidence that the
// deploy is past the lower of the two lines, so looking every minute does not inflate the
// false-revert rate. Two guards keep fleet-wide outages from being blamed on the deploy; each can
// only withhold a revert, never cause one, so neither spends any of the error rate:
//  - outage in progress: when the last minutes before the deploy were worse than the rest of the
//    baseline, the deploy must also look worse than those minutes;
//  - onset: a deploy's effect starts when it goes live and lasts. When the minutes since the deploy
//    split into a clearly better and a clearly worse part (the failures began, or ended, some
//    minutes after it went live), only the part from the deploy to the change (began later) or
//    from the change on (ended) can convict it.
//  - step: a deploy's effect is a step in the bad ratio at the minute it went live; a fleet-wide
//    outage is a step at the minute it began. When a step at another minute (before the deploy, or
//    after it) fits the counts 100 times better than one at the deploy, the failures are timed to
//    that minute and judged as the two guards above would: against the minutes since it (before),
//    or only up to it (after); a bump (failures that rose and fell back while the deploy stayed
//    live) is left out.
// Failures cluster (a customer's bad input, its client's retries): the counts are discounted by
// the overdispersion of the baseline's own minute-to-minute variation (an upper bound of it), so
// n tasks weigh as n/φ independent draws. With a control series (auto_revert.control) the canary
// arm is judged against the stable arm over the same minutes, or the line is raised by what a
// scope the deploy did not touch did on its own.

export type CanaryRule = 'burn_rate' | 'consumed';

export interface JudgeInput {
  /** 1 - target: the bad ratio the budget allows. */
  budgetRatio: number;
  post: Counts;
  /** The same post-deploy tasks in ONSET_BLOCK_MIN blocks from the deploy, for the onset guard; omitted: no guard. */
  postSeries?: Counts[];
  /** The whole baseline span before the deploy. */
  baseline: Counts;
  /** Its last minutes, one entry per span of GUARD_SPANS_MIN up to auto_revert.recent: the outage guard. */
  recent: Counts[];
  /** The window's budget in bad tasks, for the share rule; null when unknown. */
  windowBudget: number | null;
  /** Tasks the watch is expected to see in all, for the share rule's projection; null = no projection. */
  projectedTasks: number | null;
  confidence: number;
  burnRate: number;
  consumed: number;
  minEvents: number;
  /**
   * The deployment's other SLOs' guards (the busiest scopes see a fleet-wide outage begin to the
   * minute); called only when this SLO would revert.
   */
  hints?: () => Guards | null;
  /**
   * The baseline interval by interval (a cluster's repeated failures already counted once), for
   * the overdispersion discount; omitted: the evidence is not discounted.
   */
  baselineSeries?: Counts[];
  /** The overdispersion estimate of that series, when the caller has it already (the grid). */
  dispersion?: Dispersion;
  /** A control series over the same minutes (auto_revert.control); omitted: none. */
  control?: ControlCounts;
  /** The watch is over: an undecided deploy is kept, and said to be clear or inconclusive. */
  final: boolean;
}

interface ArmCounts {
  post: Counts;
  baseline: Counts;
}

/**
 * split: the canary arm (the new version) and the stable arm over the same minutes; scope: tasks
 * the deploy does not touch, after and before it.
 */
export type ControlCounts =
  | { kind: 'split'; canary: ArmCounts; stable: ArmCounts }
  | { kind: 'scope'; post: Counts; baseline: Counts };

/**
 * The overdispersion estimate: blocks of this many intervals, each against its neighbours this
 * many blocks either side, and the one-sided normal quantile of the upper bound the evidence is
 * discounted by (bench/results/quality.md measured the choice).
 */
const DISPERSION_BLOCK = 1;
/** Blocks of one interval each, the watcher's grid: the estimate reads its prefix sums directly. */
export const DISPERSION_REACH = 15;
export const DISPERSION_Z = 1;

const NONE: Dispersion = { estimate: 1, upper: 1, blocks: 0 };
/** A watch's baseline does not change from look to look: its estimate is made once. */
const DISPERSIONS = new WeakMap<readonly Counts[], Dispersion>();

/** The look's overdispersion: given (read off a grid), or estimated from its baseline series. */
const dispersionOfLook = (i: Look): Dispersion => i.dispersion ?? dispersionOfSeries(i.baselineSeries);

export function dispersionOfSeries(series: readonly Counts[] | undefined): Dispersion {
  if (!series) return NONE;
  const d = DISPERSIONS.get(series) ?? dispersionOf(series, DISPERSION_BLOCK, DISPERSION_REACH, DISPERSION_Z);
  DISPERSIONS.set(series, d);
  return d;
}

export type JudgeStatus = 'revert' | 'watching' | 'clear' | 'inconclusive';

/** Where the post-deploy bad ratio changed on its own, `at` intervals after the deploy. */
interface Onset {
  kind: 'began' | 'ended';
  at: number;
}

export interface JudgeResult {
  status: JudgeStatus;
  /** The rules whose line the evidence passed (a revert), else empty. */
  rules: CanaryRule[];
  /** The attributable bad-ratio line tested: the lower of the rate rule's and the share rule's. */
  line_ratio: number;
  /** The binding rule: whose line that is. */
  line_rule: CanaryRule;
  /** Always-valid bounds on the attributable burn rate at the policy's confidence (null: none yet). */
  burn_low: number | null;
  burn_high: number | null;
  /** The baseline compared against: the whole span, the elevated last minutes the deploy looked least bad against, or the stable arm. */
  compared: 'baseline' | 'recent' | 'stable';
  /** Index into `recent` of the span compared against, when `recent`. */
  compared_span: number | null;
  /** The counts compared against, as the evidence weighed them (discounted by `dispersion`). */
  compared_counts: Counts;
  outage_guard: boolean;
  /** The onset guard: the bad ratio changed on its own after the deploy (null: it did not). */
  onset: Onset | null;
  /**
   * The step guard, checked on a would-be revert: a step at another minute that fits STEP_LN
   * better than one at the deploy (null: none does, or no revert was in question).
   */
  step: Step | null;
  /** ln of the e-value against the line, and the ln(1/alpha) a revert needs. */
  ln_evidence: number;
  ln_needed: number;
  /** The overdispersion the evidence was discounted by (1: none), and its point estimate. */
  dispersion: number;
  dispersion_estimate: number;
  /** The control the verdict rests on: the canary/stable split, a control scope, or none. */
  control: 'split' | 'scope' | null;
  /** The control scope's own excess bad ratio since the deploy, added to the line (0: none). */
  control_shift: number;
}

/**
 * The outage guard's spans, in minutes before the deploy: an outage that began a minute before it
 * shows in the shortest, one that began half an hour before in the longest.
 */
const GUARD_SPANS_MIN = [1, 2, 5, 10, 20, 30, 60];
/** Spans a plain (unbucketed) request leaves out: Prometheus counts over a span near its scrape interval are noise. */
export const FINE_SPAN_MIN = 5;
export const guardSpans = (recentMin: number): number[] => {
  const spans = GUARD_SPANS_MIN.filter((m) => m < recentMin);
  return [...spans, recentMin];
};

/** The onset guard reads the post-deploy tasks in blocks of this many minutes (the last one partial). */
export const ONSET_BLOCK_MIN = 1;

/** ln of the e-value at which a guard counts a change as real (1 in 20). */
const GUARD_LN = Math.log(20);

type Look = Omit<JudgeInput, 'final'>;

function lines(i: Look, seen: number) {
  const rateLine = i.burnRate * i.budgetRatio;
  const tasks = i.projectedTasks ?? seen;
  const shareLine =
    i.windowBudget !== null && tasks > 0 ? (i.consumed * i.windowBudget) / tasks : Number.POSITIVE_INFINITY;
  return { rateLine, shareLine, line: Math.min(rateLine, shareLine) };
}

/** Indexes of the last-minutes spans worse than the rest of the baseline: an outage in progress. */
function elevatedSpans(i: Look): number[] {
  const out: number[] = [];
  i.recent.forEach((r, k) => {
    const rest = { n: i.baseline.n - r.n, x: i.baseline.x - r.x };
    if (r.n > 0 && rest.n > 0 && lnEvidence(rest, r, 0, 'above') >= GUARD_LN) out.push(k);
  });
  return out;
}

/** The strongest split of the post-deploy series into a better and a worse part, if one is clear. */
function findOnset(series: readonly Counts[]): Onset | null {
  const total = series.reduce((a, c) => ({ n: a.n + c.n, x: a.x + c.x }), { n: 0, x: 0 });
  let best: Onset | null = null;
  let bestLn = GUARD_LN;
  const early = { n: 0, x: 0 };
  for (let s = 1; s < series.length; s++) {
    early.n += series[s - 1]!.n;
    early.x += series[s - 1]!.x;
    const late = { n: total.n - early.n, x: total.x - early.x };
    if (early.n === 0 || late.n === 0) continue;
    const began = lnEvidence(early, late, 0, 'above');
    if (began > bestLn) {
      bestLn = began;
      best = { kind: 'began', at: s };
    }
    const ended = lnEvidence(late, early, 0, 'above');
    if (ended > bestLn) {
      bestLn = ended;
      best = { kind: 'ended', at: s };
    }
  }
  return best;
}

/**
 * Where a step in the bad ratio fits the counts better than a step at the deploy: `span` indexes
 * the outage guard's spans (it began that long before the deploy), `at` is in onset blocks after
 * it; `ln` is how much better it fits (ln of the likelihood ratio, maximised over both ratios).
 */
export type Step =
  | { kind: 'before'; span: number; ln: number }
  | { kind: 'after'; at: number; ln: number }
  | { kind: 'bump'; at: number; until: number; ln: number };

/**
 * ln of the likelihood ratio at which the step guard times the failures elsewhere. For a deploy
 * that did step the ratio at its minute, the ratio of a step elsewhere to the true one is a
 * martingale over the minutes, so (Ville) it passes 100 in under about 1 bad deploy in 100; fitted
 * ratios add a little. At 20 it withheld 3% of 1% → 40% reverts at 5 tasks a minute; at 100 the
 * quality report loses none of its recall targets (bench/results/quality.md).
 */
export const STEP_LN = Math.log(100);

const plus = (a: Counts, b: Counts) => ({ n: a.n + b.n, x: a.x + b.x });
const minus = (a: Counts, b: Counts) => ({
  n: Math.max(0, a.n - b.n),
  x: Math.max(0, Math.min(a.x - b.x, a.n - b.n)),
});

/**
 * The step guard. Among the one-step models (one bad ratio before the step, another after it), a
 * step at the deploy is compared with one at each of the outage guard's spans before it and at
 * each onset block after it; the best of those, if it fits STEP_LN better.
 */
export function findStep(i: Look): Step | null {
  // ln-likelihood of one bad ratio over `before` and another over `after`, each at its best.
  const split = (before: Counts, after: Counts) => lnProfile(before) + lnProfile(after);
  const atDeploy = split(i.baseline, i.post);
  let best: Step | null = null;
  let bestLn = STEP_LN;
  i.recent.forEach((r, k) => {
    if (r.n === 0 || r.n >= i.baseline.n) return;
    const ln = split(minus(i.baseline, r), plus(r, i.post)) - atDeploy;
    if (ln > bestLn) {
      bestLn = ln;
      best = { kind: 'before', span: k, ln };
    }
  });
  const series = i.postSeries ?? [];
  let early = { n: 0, x: 0 };
  for (let s = 1; s < series.length; s++) {
    early = plus(early, series[s - 1]!);
    const ln = split(plus(i.baseline, early), minus(i.post, early)) - atDeploy;
    if (ln > bestLn) {
      bestLn = ln;
      best = { kind: 'after', at: s, ln };
    }
  }
  // A bump: failures that began some minutes after the deploy and ended while it stayed live (an
  // incident come and gone). A deploy's effect lasts, so the bump is not its doing.
  const pre: Counts[] = [{ n: 0, x: 0 }];
  for (const c of series) pre.push(plus(pre.at(-1)!, c));
  for (let a = 1; a < series.length - 1; a++) {
    for (let b = a + 1; b < series.length; b++) {
      const bump = minus(pre[b]!, pre[a]!);
      const rest = plus(i.baseline, minus(i.post, bump));
      const ln = lnProfile(rest) + lnProfile(bump) - atDeploy;
      if (ln > bestLn) {
        bestLn = ln;
        best = { kind: 'bump', at: a, until: b, ln };
      }
    }
  }
  return best;
}

const sumOf = (cs: readonly Counts[]) =>
  cs.reduce((a, c) => ({ n: a.n + c.n, x: a.x + c.x }), { n: 0, x: 0 });

const ratio = (c: Counts) => (c.n > 0 ? c.x / c.n : 0);

/** The evidence against the line for these post-deploy counts, against every baseline that applies. */
function weigh(i: Look, post: Counts, up: number[], seen: number, shift: number) {
  const line = lines(i, seen).line + shift;
  let ln = lnEvidence(i.baseline, post, line, 'above');
  let against = i.baseline;
  let span: number | null = null;
  for (const k of up) {
    const r = i.recent[k];
    if (!r) continue;
    const e = lnEvidence(r, post, line, 'above');
    if (e < ln) {
      ln = e;
      against = r;
      span = k;
    }
  }
  return { ln, against, span, line };
}

interface Verdict {
  revert: boolean;
  /** The step guard's finding, looked for only on a would-be revert. */
  step: Step | null;
  post: Counts;
  up: number[];
  onset: Onset | null;
  ln: number;
  against: Counts;
  /** Index into `recent` of the span compared against; null: the whole baseline (or the stable arm). */
  span: number | null;
  line: number;
  control: 'split' | 'scope' | null;
  shift: number;
}

/** What one SLO's data says about the deploy's surroundings, for the deployment's other SLOs. */
export interface Guards {
  /** Where its own bad ratio changed on its own after the deploy. */
  onset: Onset | null;
  /** Indexes into `recent` of the spans worse than the rest of its baseline. */
  spans: number[];
}

export function guardsOf(i: Look): Guards {
  const phi = dispersionOfLook(i).upper;
  const d = phi > 1 ? discountLook(i, phi) : i;
  return { onset: d.postSeries ? findOnset(d.postSeries) : null, spans: elevatedSpans(d) };
}

/** Every count of a look worth 1/phi as many independent draws. */
function discountLook(i: Look, phi: number): Look {
  const d = (c: Counts) => discounted(c, phi);
  return {
    ...i,
    post: d(i.post),
    baseline: d(i.baseline),
    recent: i.recent.map(d),
    ...(i.postSeries ? { postSeries: i.postSeries.map(d) } : {}),
  };
}

/** Both arms of a split have tasks since the deploy: the split decides. */
const splitOf = (i: Look) =>
  i.control?.kind === 'split' && i.control.canary.post.n > 0 && i.control.stable.post.n > 0
    ? i.control
    : null;

/**
 * The canary against the stable arm over the same minutes: whatever reaches both (an incident, a
 * customer's burst, the hour of the day) cancels. The evidence is the same two-sample test, with
 * the stable arm's post-deploy tasks as the baseline; a difference in differences guards it: the
 * canary's change since the deploy, less the stable arm's, must pass the line too.
 */
function decideSplit(
  i: Look,
  split: { canary: ArmCounts; stable: ArmCounts },
  phi: number,
  need: number,
): Verdict {
  const { canary, stable } = split;
  const line = lines(i, canary.post.n).line;
  const post = discounted(canary.post, phi);
  const against = discounted(stable.post, phi);
  const ln = lnEvidence(against, post, line, 'above');
  const both = canary.baseline.n > 0 && stable.baseline.n > 0;
  const did = both
    ? ratio(canary.post) - ratio(canary.baseline) - (ratio(stable.post) - ratio(stable.baseline))
    : ratio(canary.post) - ratio(stable.post);
  const enough = canary.post.n >= i.minEvents && Number.isFinite(line);
  const base: Verdict = {
    revert: enough && ln >= need && did >= line,
    step: null,
    post,
    up: [],
    onset: null,
    ln,
    against,
    span: null,
    line,
    control: 'split',
    shift: 0,
  };
  if (base.revert) return base;
  // While the stable arm is calm, the whole baseline is the stronger comparison (hours of it, not
  // the stable arm's minutes); the stable arm then guards it: it must not have risen on its own,
  // and the canary must be worse than it over the same minutes by the line.
  const stableBase = discounted(stable.baseline.n > 0 ? stable.baseline : i.baseline, phi);
  if (lnEvidence(stableBase, against, 0, 'above') >= CALM_LN) return base;
  const wide = lnEvidence(discounted(i.baseline, phi), post, line, 'above');
  if (!(enough && wide >= need && did >= line && ln >= CALM_SPLIT_LN)) return base;
  return { ...base, revert: true, ln: wide, against: i.baseline };
}

/**
 * ln of the e-value at which the stable arm counts as risen on its own since the deploy (an
 * incident reaching it): then only the split decides. 5, not 20: the whole-baseline path is for
 * calm minutes only.
 */
const CALM_LN = Math.log(5);
/** The least evidence the canary must show against the stable arm itself to take the whole-baseline path. */
const CALM_SPLIT_LN = Math.log(5);

/**
 * The control scope's own excess since the deploy, when it is clearly up (an incident reaching
 * the tasks the deploy did not touch): the deploy must pass the line by that much more.
 */
function controlShift(i: Look, phi: number): number {
  const c = i.control;
  if (c?.kind !== 'scope' || c.post.n === 0 || c.baseline.n === 0) return 0;
  const up = lnEvidence(discounted(c.baseline, phi), discounted(c.post, phi), 0, 'above') >= GUARD_LN;
  return up ? Math.max(0, ratio(c.post) - ratio(c.baseline)) : 0;
}

function decide(raw: Look): Verdict {
  const need = Math.log(1 / (1 - raw.confidence));
  const phi = dispersionOfLook(raw).upper;
  const split = splitOf(raw);
  if (split) return decideSplit(raw, split, phi, need);
  const i = phi > 1 ? discountLook(raw, phi) : raw;
  const shift = controlShift(raw, phi);
  const control = shift > 0 ? ('scope' as const) : null;
  // min_events counts tasks, not their discounted worth.
  const enough = (c: Counts) => c.n * phi >= i.minEvents && c.n > 0;
  const judge = (post: Counts, up: number[]) => {
    const w = weigh(i, post, up, post.n * phi, shift);
    return { ...w, post, up, revert: enough(post) && Number.isFinite(w.line) && w.ln >= need };
  };
  const own = elevatedSpans(i);
  const whole = judge(i.post, own);
  if (!whole.revert) return { ...whole, onset: null, step: null, control, shift };
  // Only a would-be revert pays for the guards' scans and the other SLOs' hints: they can
  // withhold a revert, never add one, so the confidence holds whatever they find.
  const shared = i.hints?.() ?? null;
  const step = findStep(i);
  const stepSpan = step?.kind === 'before' ? [step.span] : [];
  const stepOnset: Onset | null = step?.kind === 'after' ? { kind: 'began', at: step.at } : null;
  const spans = [...new Set([...own, ...stepSpan, ...(shared?.spans ?? [])])];
  const up = spans.filter((k) => i.recent[k] !== undefined);
  const onset = i.postSeries ? (findOnset(i.postSeries) ?? stepOnset ?? shared?.onset ?? null) : null;
  if (step?.kind === 'bump' && i.postSeries) {
    const outside = sumOf([...i.postSeries.slice(0, step.at), ...i.postSeries.slice(step.until)]);
    return { ...judge(outside, up), onset: null, step, control, shift };
  }
  if (!onset || !i.postSeries) return { ...judge(i.post, up), onset: null, step, control, shift };
  const part = sumOf(onset.kind === 'began' ? i.postSeries.slice(0, onset.at) : i.postSeries.slice(onset.at));
  return { ...judge(part, up), onset, step, control, shift };
}

/** The decision alone, without the bounds: what a simulation needs at every look. */
export function wouldRevert(i: Look): boolean {
  return decide(i).revert;
}

export function judgeCounts(i: JudgeInput): JudgeResult {
  const alpha = 1 - i.confidence;
  const disp = dispersionOfLook(i);
  const v = decide(i);
  const { rateLine, shareLine } = lines(i, v.post.n * disp.upper);
  const bounds = differenceBounds(v.against, v.post, alpha);
  const low = bounds.low === null ? null : bounds.low - v.shift;
  const high = bounds.high === null ? null : bounds.high - v.shift;
  const rules: CanaryRule[] = [];
  if (v.revert) {
    if (low !== null && low >= rateLine) rules.push('burn_rate');
    if (low !== null && low >= shareLine) rules.push('consumed');
    if (rules.length === 0) rules.push(shareLine < rateLine ? 'consumed' : 'burn_rate');
  }
  let status: JudgeStatus = 'watching';
  if (v.revert) status = 'revert';
  else if (i.final) status = high !== null && high < v.line - v.shift ? 'clear' : 'inconclusive';
  return {
    status,
    rules,
    line_ratio: v.line - v.shift,
    line_rule: shareLine < rateLine ? 'consumed' : 'burn_rate',
    burn_low: low === null ? null : low / i.budgetRatio,
    burn_high: high === null ? null : high / i.budgetRatio,
    compared: v.control === 'split' ? 'stable' : v.span === null ? 'baseline' : 'recent',
    compared_span: v.span,
    compared_counts: v.against,
    outage_guard: v.up.length > 0,
    onset: v.onset,
    step: v.step,
    ln_evidence: v.ln,
    ln_needed: Math.log(1 / alpha),
    dispersion: disp.upper,
    dispersion_estimate: disp.estimate,
    control: v.control,
    control_shift: v.shift,
  };
}
