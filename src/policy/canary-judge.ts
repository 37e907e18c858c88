import { type Counts, differenceBounds, lnEvidence } from './canary-stats.ts';

// The canary verdict for one SLO from counts: tasks and bad tasks before and after the deploy.
// Both of the policy's lines are lines on the attributable bad ratio p1 - p0:
//  - the rate rule: attributable burn (p1 - p0) / (1 - target) >= auto_revert.burn_rate;
//  - the share rule: the deploy's attributable bad tasks by the end of the watch (at the traffic
//    seen so far, or only those already seen when projection is off) >= auto_revert.consumed of
//    the window's budget, i.e. p1 - p0 >= consumed × budget / tasks.
// A revert needs always-valid evidence (canary-stats.ts) at the policy's confidence that the
// deploy is past the lower of the two lines, so looking every minute does not inflate the
// false-revert rate. When the last minutes before the deploy were worse than the rest of the
// baseline (a provider outage in progress), the deploy must also look worse than those minutes.

export type CanaryRule = 'burn_rate' | 'consumed';

export interface JudgeInput {
  /** 1 - target: the bad ratio the budget allows. */
  budgetRatio: number;
  post: Counts;
  /** The whole baseline span before the deploy. */
  baseline: Counts;
  /** Its last minutes (parts of `baseline`, e.g. the last 15 and the last 5): the outage guard. */
  recent: Counts[];
  /** The window's budget in bad tasks, for the share rule; null when unknown. */
  windowBudget: number | null;
  /** Tasks the watch is expected to see in all, for the share rule's projection; null = no projection. */
  projectedTasks: number | null;
  confidence: number;
  burnRate: number;
  consumed: number;
  minEvents: number;
  /** The watch is over: an undecided deploy is kept, and said to be clear or inconclusive. */
  final: boolean;
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
  /** The baseline compared against: the whole span, or the elevated last minutes the deploy looked least bad against. */
  compared: 'baseline' | 'recent';
  outage_guard: boolean;
  /** ln of the e-value against the line, and the ln(1/alpha) a revert needs. */
  ln_evidence: number;
  ln_needed: number;
}

/** ln of the e-value at which the last minutes count as "worse than the rest of the baseline" (95%). */
const GUARD_LN = Math.log(20);

function lines(i: Omit<JudgeInput, 'final'>) {
  const rateLine = i.burnRate * i.budgetRatio;
  const tasks = i.projectedTasks ?? i.post.n;
  const shareLine =
    i.windowBudget !== null && tasks > 0 ? (i.consumed * i.windowBudget) / tasks : Number.POSITIVE_INFINITY;
  return { rateLine, shareLine, line: Math.min(rateLine, shareLine) };
}

/** Last-minutes spans worse than the rest of the baseline: an outage in progress. */
function elevated(i: Omit<JudgeInput, 'final'>): Counts[] {
  return i.recent.filter((r) => {
    const rest = { n: i.baseline.n - r.n, x: i.baseline.x - r.x };
    return r.n > 0 && rest.n > 0 && lnEvidence(rest, r, 0, 'above') >= GUARD_LN;
  });
}

export function judgeCounts(i: JudgeInput): JudgeResult {
  const alpha = 1 - i.confidence;
  const need = Math.log(1 / alpha);
  const { rateLine, shareLine, line } = lines(i);
  const lineRule: CanaryRule = shareLine < rateLine ? 'consumed' : 'burn_rate';
  const up = elevated(i);
  const guard = up.length > 0;
  const against = (base: Counts) => lnEvidence(base, i.post, line, 'above');
  // The deploy must look worse than the baseline AND every elevated span (an intersection-union
  // test: no extra error is spent); the bounds are reported against the worst-looking one.
  let ln = against(i.baseline);
  let worstBase = i.baseline;
  for (const r of up) {
    const e = against(r);
    if (e < ln) {
      ln = e;
      worstBase = r;
    }
  }
  const compared = worstBase === i.baseline ? 'baseline' : 'recent';

  const enough = i.post.n >= i.minEvents && i.post.n > 0;
  const revert = enough && Number.isFinite(line) && ln >= need;
  const bounds = differenceBounds(worstBase, i.post, alpha);
  const burnLow = bounds.low === null ? null : bounds.low / i.budgetRatio;
  const burnHigh = bounds.high === null ? null : bounds.high / i.budgetRatio;
  const rules: CanaryRule[] = [];
  if (revert) {
    if (bounds.low !== null && bounds.low >= rateLine) rules.push('burn_rate');
    if (bounds.low !== null && bounds.low >= shareLine) rules.push('consumed');
    if (rules.length === 0) rules.push(lineRule);
  }
  let status: JudgeStatus = 'watching';
  if (revert) status = 'revert';
  else if (i.final) status = bounds.high !== null && bounds.high < line ? 'clear' : 'inconclusive';
  return {
    status,
    rules,
    line_ratio: line,
    line_rule: lineRule,
    burn_low: burnLow,
    burn_high: burnHigh,
    compared,
    outage_guard: guard,
    ln_evidence: ln,
    ln_needed: need,
  };
}

/** The decision alone, without the bounds: what a simulation needs at every look. */
export function wouldRevert(i: Omit<JudgeInput, 'final'>): boolean {
  if (i.post.n < i.minEvents || i.post.n === 0) return false;
  const { line } = lines(i);
  if (!Number.isFinite(line)) return false;
  const need = Math.log(1 / (1 - i.confidence));
  if (lnEvidence(i.baseline, i.post, line, 'above') < need) return false;
  return elevated(i).every((r) => lnEvidence(r, i.post, line, 'above') >= need);
}
