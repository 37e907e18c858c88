import {
  type Counts,
  type Dispersion,
  differenceBounds,
  discounted,
  dispersionOf,
  fixedBounds,
  lnEvidence,
  lnEvidenceFixed,
} from './stats.ts';
import { deployOnTop, type Minutes, type Timing, type TimingFinding, timeChange } from './timing.ts';

// The canary verdict for one SLO from counts: tasks and bad tasks before and after the deploy.
// Both of the policy's lines are lines on the attributable bad ratio p1 - p0:
//  - the rate rule: attributable burn (p1 - p0) / (1 - target) >= auto_revert.burn_rate;
//  - the share rule: the deploy's attributable bad tasks by the end of the watch (at the traffic
//    seen so far, or only those already seen when projection is off) >= auto_revert.consumed of
//    the window's budget, i.e. p1 - p0 >= consumed × budget / tasks.
// A revert needs always-valid evidence (stats.ts) at the policy's confidence that the deploy is
// past the lower of the two lines, so looking every minute does not inflate the false-revert rate:
// the baseline's ratio is bounded once (it is all in before the first look), and the deploy's
// tasks are tested sequentially against that bound plus the line.
// Two guards keep incidents from being blamed on the deploy; each can only withhold a revert, never
// cause one, so neither spends any of the error rate:
//  - outage in progress: when the last minutes before the deploy were worse than the rest of the
//    baseline, the deploy must also look worse than those minutes;
//  - timing (timing.ts): a deploy's effect is a step at the minute it went live, and lasts; an
//    incident builds up from a minute of its own and ends. When incident-shaped changes (a ramp
//    or step from another minute, or one that came and went) make the minutes around the deploy,
//    on every SLO that changed, TIMING_LN likelier than a step at the deploy (a Bayes factor), the deploy
//    answers only for what that change does not explain: the minutes before it began (after the
//    deploy), the minutes outside it (come and gone), or how much worse it is than the incident
//    at full strength (in progress at the deploy). A change that began after the deploy is also
//    weighed on its own, at a lower bar (TIMING_AFTER_LN): it narrows the evidence, never blocks it.
//    An incident still building up when the deploy
//    went live leaves nothing the deploy can be told apart by: it is kept, unless the deploy
//    visibly stepped on top of it.
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
  /** The same post-deploy tasks minute by minute from the deploy, for the timing guard; omitted: no guard. */
  postSeries?: Counts[];
  /** The last minutes before the deploy (up to auto_revert.recent), oldest first, for the timing guard. */
  preSeries?: Counts[];
  /**
   * Both series on demand, in place of the two above: only a would-be revert reads them, so a look
   * that is nowhere near one never builds them (the watcher judges thousands of watches a tick).
   */
  series?: () => MinuteSeries;
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
 * discounted by. Half a standard error: with clusters already bounded where they are counted
 * (cluster_by), a whole one cost 1% -> 10% at 5 tasks a minute two points of recall and bought
 * nothing: healthy deploys came out the same either way, also with four customers' bad batches an
 * hour, or two of 5-20 minutes (docs/bot.md).
 */
const DISPERSION_BLOCK = 1;
/** Blocks of one interval each, the watcher's grid: the estimate reads its prefix sums directly. */
export const DISPERSION_REACH = 15;
export const DISPERSION_Z = 0.5;

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
  /**
   * The timing guard, checked on a would-be revert: the likeliest incident-shaped change, when
   * such changes made the counts TIMING_LN likelier than a step at the deploy (its `ln`: that
   * Bayes factor; null: they did not, or no revert was in question).
   */
  timing: Timing | null;
  /** The timing guard ran (a would-be revert with the minutes around the deploy). */
  timed: boolean;
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

/** The timing guard reads the tasks in blocks of this many minutes (the last one partial). */
export const ONSET_BLOCK_MIN = 1;

/**
 * ln of the Bayes factor at which the timing guard takes a change for an incident's rather than
 * the deploy's. 3: at 1, incidents beginning mid-watch were reverted a third less often and 1% ->
 * 10% lost three points of recall (the tuning runs in docs/bot.md).
 */
export const TIMING_LN = Math.log(3);

/**
 * The same for changes that began after the deploy, weighed on their own: taking one for an
 * incident only narrows the deploy's evidence to the minutes before it (a delay, never a keep), so
 * it may be taken at half the deploy step's likelihood. In `npm run quality` (seed 21): incidents
 * beginning mid-watch reverted 7.2% -> 4.9% at 5 tasks a minute, 1% -> 10% recall 91.3% -> 90.3%;
 * on the tuning seeds a bar of 1 (ln 0) left 6.3%, one of 1/20 2.7% but took that recall to 72%.
 */
export const TIMING_AFTER_LN = Math.log(0.5);

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

const sumOf = (cs: readonly Counts[]) =>
  cs.reduce((a, c) => ({ n: a.n + c.n, x: a.x + c.x }), { n: 0, x: 0 });

const ratio = (c: Counts) => (c.n > 0 ? c.x / c.n : 0);

/**
 * Of the error rate 1 - confidence, the share spent on the baseline's bound (alpha0); the rest
 * (alpha1) goes to the sequential test of the deploy's tasks against it.
 */
const BASELINE_SHARE = 0.2;
const alphas = (confidence: number) => {
  const alpha = 1 - confidence;
  return { alpha0: alpha * BASELINE_SHARE, alpha1: alpha * (1 - BASELINE_SHARE) };
};

/**
 * The evidence against the line for these post-deploy counts, against every baseline that applies:
 * the whole baseline, the outage guard's elevated spans (`up`) and any other span before the deploy
 * (`extra`: an incident's minutes at full strength). The deploy must be past the line against each.
 */
function weigh(i: Look, post: Counts, up: number[], seen: number, shift: number, extra: Counts[] = []) {
  const line = lines(i, seen).line + shift;
  const { alpha0, alpha1 } = alphas(i.confidence);
  let ln = lnEvidenceFixed(i.baseline, post, line, 'above', alpha0);
  let against = i.baseline;
  let span: number | null = null;
  let fixed = true;
  // A span of the last minutes holds few tasks, which bound its ratio loosely: there the two-sample
  // mixture (stats.ts), on the scale of the fixed test, may be the stronger. The spans only add
  // requirements, so the stronger of the two is taken.
  const toFixed = Math.log(1 / alpha1) - Math.log(1 / (1 - i.confidence));
  const against1 = (r: Counts, k: number | null) => {
    const f = lnEvidenceFixed(r, post, line, 'above', alpha0);
    const t = lnEvidence(r, post, line, 'above') + toFixed;
    const e = Math.max(f, t);
    if (e < ln) {
      ln = e;
      against = r;
      span = k;
      fixed = f >= t;
    }
  };
  for (const k of up) {
    const r = i.recent[k];
    if (r) against1(r, k);
  }
  for (const r of extra) against1(r, null);
  return { ln, against, span, line, fixed };
}

interface Verdict {
  revert: boolean;
  /** The timing guard's finding, looked for only on a would-be revert. */
  timing: Timing | null;
  timed: boolean;
  post: Counts;
  up: number[];
  ln: number;
  against: Counts;
  /** Index into `recent` of the span compared against; null: the whole baseline (or the stable arm). */
  span: number | null;
  line: number;
  control: 'split' | 'scope' | null;
  shift: number;
  /** `against` was all in before the deploy (the fixed-baseline test), not a concurrent arm. */
  fixed: boolean;
}

/** What one SLO's data says about the deploy's surroundings, for the deployment's other SLOs. */
export interface Guards {
  /** The other SLOs' minutes around the deploy, for the joint timing. */
  others: Minutes[];
  /** Indexes into `recent` of the spans worse than the rest of their baselines. */
  spans: number[];
}

export function guardsOf(i: Look): Guards {
  const phi = dispersionOfLook(i).upper;
  const d = phi > 1 ? discountLook(i, phi) : i;
  const m = minutesOf(i);
  return { others: m ? [m] : [], spans: elevatedSpans(d) };
}

/** Minute counts before and since the deploy. */
export interface MinuteSeries {
  pre: Counts[];
  post: Counts[];
}

const SERIES = new WeakMap<() => MinuteSeries, MinuteSeries>();

/** The look's minute series, from the arrays or built once from `series`. */
function seriesOf(i: Look): Partial<MinuteSeries> {
  if (i.postSeries || !i.series)
    return { ...(i.postSeries ? { post: i.postSeries } : {}), ...(i.preSeries ? { pre: i.preSeries } : {}) };
  let got = SERIES.get(i.series);
  if (!got) {
    got = i.series();
    SERIES.set(i.series, got);
  }
  return got;
}

/** The look's minutes around the deploy, for the timing guard; null without them. */
function minutesOf(i: Look): Minutes | null {
  const { pre: preSeries, post: postSeries } = seriesOf(i);
  if (!postSeries || !preSeries || preSeries.length === 0) return null;
  const pre = sumOf(preSeries);
  const far = { n: i.baseline.n - pre.n, x: i.baseline.x - pre.x };
  // Jeffreys' estimate: a quiet scope's hours without a failure do not make one failure impossible.
  const base = far.n > 0 ? far : pre;
  const before = (base.x + 0.5) / (base.n + 1);
  return {
    before,
    pre: preSeries,
    post: postSeries,
    phi: Math.max(1, dispersionOfLook(i).estimate),
  };
}

/** Every count of a look worth 1/phi as many independent draws. */
function discountLook(i: Look, phi: number): Look {
  const d = (c: Counts) => discounted(c, phi);
  return {
    ...i,
    post: d(i.post),
    baseline: d(i.baseline),
    recent: i.recent.map(d),
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
function decideSplit(i: Look, split: { canary: ArmCounts; stable: ArmCounts }, phi: number): Verdict {
  const need = Math.log(1 / (1 - i.confidence));
  const { alpha0, alpha1 } = alphas(i.confidence);
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
    timing: null,
    timed: false,
    post,
    up: [],
    ln,
    against,
    span: null,
    line,
    control: 'split',
    shift: 0,
    fixed: false,
  };
  if (base.revert) return base;
  // While the stable arm is calm, the whole baseline is the stronger comparison (hours of it, not
  // the stable arm's minutes); the stable arm then guards it: it must not have risen on its own,
  // and the canary must be worse than it over the same minutes by the line.
  const stableBase = discounted(stable.baseline.n > 0 ? stable.baseline : i.baseline, phi);
  if (lnEvidence(stableBase, against, 0, 'above') >= CALM_LN) return base;
  const wide = lnEvidenceFixed(discounted(i.baseline, phi), post, line, 'above', alpha0);
  if (!(enough && wide >= Math.log(1 / alpha1) && did >= line && ln >= CALM_SPLIT_LN)) return base;
  return { ...base, revert: true, ln: wide, against: discounted(i.baseline, phi), fixed: true };
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

/** The stronger finding of a change that began after the deploy, alone or with the other SLOs. */
function laterOf(...found: (TimingFinding | null)[]): TimingFinding['after'] {
  let best: TimingFinding['after'] = null;
  for (const f of found) if (f?.after && (!best || f.after.ln > best.ln)) best = f.after;
  return best;
}

function decide(raw: Look): Verdict {
  const need = Math.log(1 / alphas(raw.confidence).alpha1);
  const phi = dispersionOfLook(raw).upper;
  const split = splitOf(raw);
  if (split) return decideSplit(raw, split, phi);
  const i = phi > 1 ? discountLook(raw, phi) : raw;
  const shift = controlShift(raw, phi);
  const control = shift > 0 ? ('scope' as const) : null;
  // min_events counts tasks, not their discounted worth.
  const enough = (c: Counts) => c.n * phi >= i.minEvents && c.n > 0;
  const judge = (post: Counts, up: number[], extra: Counts[] = []) => {
    const w = weigh(i, post, up, post.n * phi, shift, extra);
    return { ...w, post, up, revert: enough(post) && Number.isFinite(w.line) && w.ln >= need };
  };
  const own = elevatedSpans(i);
  const whole = judge(i.post, own);
  if (!whole.revert) return { ...whole, timing: null, timed: false, control, shift };
  // Only a would-be revert pays for the guards' scans and the other SLOs' hints: they can
  // withhold a revert, never add one, so the confidence holds whatever they find.
  const shared = i.hints?.() ?? null;
  const up = [...new Set([...own, ...(shared?.spans ?? [])])].filter((k) => i.recent[k] !== undefined);
  const mine = minutesOf(raw);
  const joint = mine ? timeChange(mine, shared?.others ?? []) : null;
  const alone = mine ? timeChange(mine) : null;
  const found = alone && joint && alone.ln > joint.ln ? alone : joint;
  const later = laterOf(alone, joint);
  const timing =
    found && found.ln >= TIMING_LN
      ? { ...found.best, ln: found.ln }
      : later && later.ln >= TIMING_AFTER_LN
        ? { ...later.best, ln: later.ln }
        : null;
  const rest = { control, shift, timed: mine !== null };
  if (!timing || !mine) return { ...judge(i.post, up), timing: null, ...rest };
  // The minutes are the raw counts: what they sum to is discounted like the rest of the look.
  const part = (cs: readonly Counts[]) => discounted(sumOf(cs), phi);
  const series = mine.post;
  if (timing.kind === 'window') {
    // An incident come and gone (or one in progress that ended since): the minutes outside it.
    const outside = part([...series.slice(0, Math.max(0, timing.at)), ...series.slice(timing.until)]);
    return { ...judge(outside, up), timing, ...rest };
  }
  if (timing.at > 0) return { ...judge(part(series.slice(0, timing.at)), up), timing, ...rest };
  // In progress at the deploy: the deploy must be worse than the incident at full strength, if it
  // reached it before the deploy; an incident still building up leaves nothing to compare with.
  // Building up across the deploy, unless the counts show the deploy stepping on top of it (then
  // it is judged against all the incident's minutes before it).
  const pre = mine.pre;
  const full = timing.at + timing.ramp - 1;
  const onTop = full >= 0 && deployOnTop(mine, timing) >= TIMING_LN;
  const from = onTop ? timing.at : full;
  if ((full >= 0 && !onTop) || pre.length + from < 0)
    return { ...judge(i.post, up), revert: false, timing, ...rest };
  const span = part(pre.slice(pre.length + from));
  return { ...judge(i.post, up, [span]), timing, ...rest };
}

/** The decision alone, without the bounds: what a simulation needs at every look. */
export function wouldRevert(i: Look): boolean {
  return decide(i).revert;
}

export function judgeCounts(i: JudgeInput): JudgeResult {
  const alpha = 1 - i.confidence;
  const { alpha0, alpha1 } = alphas(i.confidence);
  const disp = dispersionOfLook(i);
  const v = decide(i);
  const { rateLine, shareLine } = lines(i, v.post.n * disp.upper);
  const bounds = v.fixed
    ? fixedBounds(v.against, v.post, alpha0, alpha1)
    : differenceBounds(v.against, v.post, alpha);
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
    timing: v.timing,
    timed: v.timed,
    ln_evidence: v.ln,
    ln_needed: v.control === 'split' && !v.fixed ? Math.log(1 / alpha) : Math.log(1 / alpha1),
    dispersion: disp.upper,
    dispersion_estimate: disp.estimate,
    control: v.control,
    control_shift: v.shift,
  };
}
