import { budgetEvents } from '../gate/budget.ts';
import { pct } from '../gate/explain.ts';
import {
  countSample,
  type GridCounts,
  RANGE_WINDOW,
  type Sample,
  type SloSamples,
  type TelemetryResult,
} from '../gate/sample.ts';
import type { Policy, Slo } from '../spec/schema.ts';
import { windowBounds } from '../time/window.ts';
import {
  type CanaryRule,
  type ControlCounts,
  DISPERSION_REACH,
  DISPERSION_Z,
  type Guards,
  guardsOf,
  type JudgeInput,
  type JudgeStatus,
  judgeCounts,
  type MinuteSeries,
  TIMING_LN,
  wouldRevert,
} from './judge.ts';
import {
  baselineBlockKey,
  baselineBlocksOf,
  baselineKey,
  blocksOf,
  type CanaryWatch,
  type ControlRole,
  controlName,
  controlSlos,
  intervalKey,
  lastKey,
  postKey,
  spansOf,
} from './plan.ts';
import { type Counts, type Dispersion, dispersionOfSums } from './stats.ts';
import type { Timing } from './timing.ts';

/** The timing guard's resolution: a minute. */
const ONSET_MS = 60_000;

// Auto-revert: did this one deployment burn too much budget too fast? Attributable burn is the
// post-deploy bad ratio minus the pre-deploy baseline's, so a deploy that lands during an ongoing
// provider outage is not blamed for it. The statistics are in canary-judge.ts and canary-stats.ts;
// canary-plan.ts plans the telemetry request; this file turns counts into an assessment that
// explains itself.

export {
  baselineKey,
  type CanaryWatch,
  planCanaryRequest,
  postKey,
} from './plan.ts';

export interface CanaryAssessment {
  slo: string;
  /** revert | watching | clear (kept: confidently under the line) | inconclusive (kept: too little evidence either way). */
  status: JudgeStatus;
  /** The rules a revert rests on: `burn_rate` and/or `consumed`. */
  rules: CanaryRule[];
  /** The policy's confidence, and the line the evidence was tested against, as an attributable burn rate. */
  confidence: number;
  line_burn: number | null;
  line_rule: CanaryRule | null;
  /** Always-valid bounds on the attributable burn rate at that confidence; null when unknown. */
  burn_low: number | null;
  burn_high: number | null;
  /** The last minutes before the deploy were worse than the rest of the baseline: compared against them too. */
  outage_guard: boolean;
  /** Share of the SLO window's budget this deployment burned beyond its baseline (point estimate). */
  attributable_consumed: number | null;
  /** Linear projection to the end of the watch, when the policy allows projection and data suffices. */
  projected_consumed: number | null;
  threshold: number;
  post: Sample;
  /** The bad ratio compared against: the baseline span's, or its last minutes' when the guard is up. */
  baseline_ratio: number | null;
  baseline: Sample;
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

const EMPTY: Sample = { events: 0, bad: 0, ratio: null };
const counts = (s: Sample) => ({ n: s.events ?? 0, x: s.bad ?? 0 });
const times = (x: number | null) =>
  x === null ? '?' : `${x >= 10 ? x.toFixed(0) : x.toFixed(x < 1 ? 2 : 1)}x`;
/** A likelihood ratio from its ln, as "100x"; past a million it only says so. */
const fits = (ln: number) =>
  ln > Math.log(1e6) ? 'over 1,000,000x' : `${Math.round(Math.exp(ln)).toLocaleString('en-US')}x`;
const tasks = (s: Sample) => `${s.bad ?? '?'} of ${s.events ?? '?'} tasks`;

type Look = Omit<JudgeInput, 'final' | 'hints'>;

/** One SLO's counts as the judge reads them, and the samples the message quotes. */
interface Seen {
  look: Look;
  post: Sample;
  base: Sample;
}

/** Sums of a grid's intervals, by time: the replay's one request read at any look. */
function gridReader(g: GridCounts) {
  const last = g.events.length - 1;
  const idx = (t: number) =>
    g.end !== undefined && t >= g.end ? last : Math.max(0, Math.min(last, Math.round((t - g.from) / g.step)));
  const sum = (a: number, b: number): Counts => ({
    n: g.events[b]! - g.events[a]!,
    x: g.bad[b]! - g.bad[a]!,
  });
  const range = (from: number, to: number) => {
    const a = idx(from);
    return sum(a, Math.max(a, idx(to)));
  };
  const blocks = (from: number, to: number) => {
    const out: Counts[] = [];
    for (let k = idx(from); k < idx(to); k++) out.push(sum(k, k + 1));
    return out;
  };
  // The baseline's overdispersion straight from the prefix sums, without building its blocks.
  const dispersion = (from: number, to: number) => {
    const a = idx(from);
    return dispersionOfSums(g.events, g.bad, a, Math.max(0, idx(to) - a), DISPERSION_REACH, DISPERSION_Z);
  };
  return { range, blocks, dispersion };
}

/** The control series' counts since and before the deploy; undefined without one (or without its data). */
function controlOf(
  policy: Policy,
  slo: Slo,
  result: TelemetryResult,
  read: (s: SloSamples | undefined) => { post: Counts; baseline: Counts } | null,
): ControlCounts | undefined {
  const roles = controlSlos(policy, slo);
  if (roles.length === 0) return undefined;
  const arm = (role: ControlRole) => read(result.slos[controlName(slo.name, role)]);
  if (roles[0]!.role === 'control') {
    const c = arm('control');
    return c ? { kind: 'scope', ...c } : undefined;
  }
  const canary = arm('canary');
  const stable = arm('stable');
  return canary && stable ? { kind: 'split', canary, stable } : undefined;
}

/** One SLO's counts as the judge reads them; null when the source gives ratios only. */
function lookOf(
  policy: Policy,
  slo: Slo,
  watch: CanaryWatch,
  result: TelemetryResult,
  at: number,
): Seen | null {
  const ar = policy.auto_revert;
  const within = ar.within.ms;
  const samples = result.slos[slo.name];
  const end = Math.max(watch.deployed_at, Math.min(at, watch.deployed_at + within));
  const elapsed = end - watch.deployed_at;
  const bounds = windowBounds(slo.window, at);
  let post: Sample;
  let base: Sample;
  let recent: Counts[];
  let postSeries: Counts[] | undefined;
  let preSeries: Counts[] | undefined;
  let series: (() => MinuteSeries) | undefined;
  let baselineSeries: Counts[] | undefined;
  let dispersion: Dispersion | undefined;
  let control: ControlCounts | undefined;
  let windowEvents: number | null;
  if (samples?.grid) {
    const g = gridReader(samples.grid);
    const d = watch.deployed_at;
    const p = g.range(d, end);
    const b = g.range(d - ar.baseline.ms, d);
    post = countSample(p.n, p.x);
    base = countSample(b.n, b.x);
    recent = spansOf(policy).map((m) => g.range(d - m * 60_000, d));
    // Built only if a would-be revert asks for them.
    series = () => ({ post: g.blocks(d, end), pre: g.blocks(d - Math.min(ar.baseline.ms, ar.recent.ms), d) });
    dispersion = g.dispersion(d - ar.baseline.ms, d);
    control = controlOf(policy, slo, result, (s) => {
      if (!s?.grid) return null;
      const c = gridReader(s.grid);
      return { post: c.range(d, end), baseline: c.range(d - ar.baseline.ms, d) };
    });
    // A replay's file rarely holds the whole SLO window: its budget is the baseline's traffic,
    // steady; the watcher's grid comes with the window's own count.
    windowEvents =
      samples.ranges[RANGE_WINDOW]?.events ?? (b.n / ar.baseline.ms) * Math.max(0, at - bounds.start);
  } else {
    post = samples?.ranges[postKey(watch.id)] ?? EMPTY;
    base = samples?.ranges[baselineKey(watch.id)] ?? EMPTY;
    const full = (xs: Array<Sample | undefined>) =>
      xs.length > 0 && xs.every((x) => x?.events != null && x.bad != null)
        ? xs.map((x) => counts(x!))
        : undefined;
    recent = spansOf(policy).map((m) => counts(samples?.ranges[lastKey(watch.id, m)] ?? EMPTY));
    postSeries = full(blocksOf(watch, at, within).map((_, k) => samples?.ranges[intervalKey(watch.id, k)]));
    // A plain request (no minutes) has no baseline blocks: said by the first one, without a scan.
    baselineSeries =
      samples?.ranges[baselineBlockKey(watch.id, 0)] === undefined
        ? undefined
        : full(
            baselineBlocksOf(watch, ar.baseline.ms, ar.interval.ms).map(
              (_, k) => samples?.ranges[baselineBlockKey(watch.id, k)],
            ),
          );
    // The timing guard reads the minutes before the deploy at the resolution of those after it.
    if (baselineSeries && ar.interval.ms === ONSET_MS)
      preSeries = baselineSeries.slice(-Math.round(Math.min(ar.baseline.ms, ar.recent.ms) / ONSET_MS));
    control = controlOf(policy, slo, result, (s) => {
      const p = s?.ranges[postKey(watch.id)];
      const b = s?.ranges[baselineKey(watch.id)];
      return p?.events != null && p.bad != null && b?.events != null && b.bad != null
        ? { post: counts(p), baseline: counts(b) }
        : null;
    });
    windowEvents = samples?.ranges[RANGE_WINDOW]?.events ?? null;
  }
  if (post.events === null || post.bad === null || base.events === null || base.bad === null) return null;
  // A calendar window's budget is for the whole period: scale the traffic so far up to it.
  const windowBudget =
    windowEvents !== null
      ? budgetEvents(windowEvents / Math.max(bounds.elapsedFraction, 1e-9), slo.target)
      : null;
  const projectedTasks = ar.projected
    ? post.events + (base.events / ar.baseline.ms) * Math.max(0, within - elapsed)
    : null;
  return {
    post,
    base,
    look: {
      budgetRatio: 1 - slo.target,
      post: counts(post),
      baseline: counts(base),
      recent,
      ...(postSeries ? { postSeries } : {}),
      ...(preSeries ? { preSeries } : {}),
      ...(series ? { series } : {}),
      ...(baselineSeries ? { baselineSeries } : {}),
      ...(dispersion ? { dispersion } : {}),
      ...(control ? { control } : {}),
      windowBudget,
      projectedTasks,
      confidence: ar.confidence,
      burnRate: ar.burn_rate,
      consumed: ar.consumed,
      minEvents: ar.min_events,
    },
  };
}

/**
 * The other SLOs' guards, for one SLO's judge: an incident reaches every scope at once, so the
 * timing guard reads their minutes with this SLO's (those that changed), and the spans are pooled.
 */
function sharedGuards(looks: Array<Seen | null>, self: number): Guards | null {
  const others = looks
    .map((s, k) => (k === self || s === null ? null : guardsOf(s.look)))
    .filter((x) => x !== null);
  if (others.length === 0) return null;
  return {
    others: others.flatMap((g) => g.others),
    spans: [...new Set(others.flatMap((g) => g.spans))],
  };
}

/** What the timing guard found, for the message; empty when it found nothing. */
function timingText(t: Timing | null, revert: boolean): string {
  if (!t) return '';
  const by = `the counts are ${fits(t.ln)} likelier under such a change than under a step at the deploy`;
  if (t.kind === 'window')
    return t.at > 0
      ? `; the bad ratio rose ${t.at} min after the deploy and fell back ${t.until} min after it while the deploy stayed live (an incident come and gone: ${by}), so those minutes do not count against it`
      : `; the bad ratio had risen ${-t.at} min before the deploy and fell back ${t.until} min after it while the deploy stayed live (an incident in progress, since ended: ${by}), so only the minutes outside it count against it`;
  const build = t.ramp > 1 ? `, building up over ${t.ramp} min` : '';
  if (t.at > 0)
    return `; the bad ratio rose ${t.at} min after the deploy went live, not when it did${build} (an incident: ${by}), so only those first ${t.at} min count against it`;
  const full = t.at + t.ramp - 1;
  if (full < 0)
    return `; the bad ratio rose ${-t.at} min before the deploy${build} (an incident in progress: ${by}), so the deploy must be worse than its last ${-full} min at full strength${revert ? ', and is' : ''}`;
  return `; the bad ratio began rising ${-t.at} min before the deploy${build}, still building up when the deploy went live (an incident in progress: ${by}): nothing in the counts tells the deploy apart from it, so it is not blamed`;
}

function assessSlo(
  policy: Policy,
  slo: Slo,
  watch: CanaryWatch,
  result: TelemetryResult,
  at: number,
  hints?: () => Guards | null,
  seen: Seen | null = lookOf(policy, slo, watch, result, at),
): CanaryAssessment {
  const ar = policy.auto_revert;
  const within = ar.within.ms;
  const bounds = windowBounds(slo.window, at);
  const elapsed = Math.max(0, Math.min(at, watch.deployed_at + within) - watch.deployed_at);
  const final = at >= watch.deployed_at + within;
  const spans = spansOf(policy);
  const b = 1 - slo.target;
  const minutes = Math.round(elapsed / 60_000);
  if (seen === null) {
    const samples = result.slos[slo.name];
    const post = samples?.ranges[postKey(watch.id)] ?? EMPTY;
    const base = samples?.ranges[baselineKey(watch.id)] ?? EMPTY;
    return ratioOnly(policy, slo, post, base, bounds.periodMs, elapsed, final);
  }
  const look = seen.look;
  const windowBudget = look.windowBudget;
  const j = judgeCounts({ ...look, ...(hints ? { hints } : {}), final });
  const split = j.control === 'split' && look.control?.kind === 'split' ? look.control : null;
  // Under a split the canary arm is judged against the stable one: those are the figures quoted.
  const post = split ? countSample(split.canary.post.n, split.canary.post.x) : seen.post;
  const base = split ? countSample(split.stable.post.n, split.stable.post.x) : seen.base;
  const spanAt = j.compared_span ?? -1;
  const raw = spanAt >= 0 ? look.recent[spanAt]! : null;
  const compared = raw ? countSample(raw.n, raw.x) : base;
  const span = spanAt >= 0 ? `${spans[spanAt]} min` : ar.baseline;
  const p0 = compared.ratio ?? 0;
  const excess = Math.max(0, (post.bad ?? 0) - p0 * (post.events ?? 0));
  const attributable = windowBudget !== null && windowBudget > 0 ? excess / windowBudget : null;
  const projected =
    ar.projected && attributable !== null && elapsed > 0 ? attributable * (within / elapsed) : null;
  const conf = pct(ar.confidence);
  const lineBurn = Number.isFinite(j.line_ratio) ? j.line_ratio / b : null;
  const line =
    j.line_rule === 'burn_rate'
      ? `the rate line of ${times(ar.burn_rate)} attributable burn (auto_revert.burn_rate)`
      : `${pct(ar.consumed)} of the ${slo.window} budget ${ar.projected ? `by the end of the ${ar.within} watch` : 'already'} (auto_revert.consumed, ${times(lineBurn)} burn at this traffic)`;
  const before = split
    ? `${pct(p0)} on the stable arm over the same minutes (${tasks(base)}; a difference in differences against both arms' ${ar.baseline} baseline)`
    : j.compared === 'recent'
      ? `${pct(p0)} in the last ${span} before it (${tasks(compared)}; an outage was in progress: ${pct(base.ratio ?? 0)} over the ${ar.baseline})`
      : `${pct(p0)} before it (${tasks(base)} over the ${ar.baseline})`;
  const onset = timingText(j.timing, j.status === 'revert');
  const discount =
    j.dispersion > 1
      ? `; failures cluster (${j.dispersion_estimate.toFixed(1)}x the independent variance over the baseline, at most ${j.dispersion.toFixed(1)}x): each task weighs 1/${j.dispersion.toFixed(1)} of an independent draw`
      : '';
  const shifted =
    j.control_shift > 0
      ? `; the control scope rose ${pct(j.control_shift)} on its own since the deploy: the line is raised by that`
      : '';
  const facts = `bad ratio ${pct(post.ratio ?? 0)} ${split ? 'on the canary arm' : 'after the deploy'} (${tasks(post)} in ${minutes} min) vs ${before}${onset}${shifted}${discount}`;
  const range =
    j.burn_low === null && j.burn_high === null
      ? 'no bound on its burn yet'
      : `its attributable burn is ${j.burn_low !== null && j.burn_low > 0 ? `at least ${times(j.burn_low)}` : 'not shown above 0x'}${j.burn_high !== null ? ` and at most ${times(j.burn_high)}` : ''} at ${conf} confidence`;
  const share =
    attributable === null
      ? ''
      : `; it burned ${pct(attributable)} of the ${slo.window} budget beyond its baseline in ${minutes} min`;
  let message: string;
  if (j.status === 'revert') {
    const which = j.rules
      .map((r) =>
        r === 'burn_rate'
          ? `rate rule (≥ ${times(ar.burn_rate)} burn)`
          : `share rule (${pct(ar.consumed)} of the ${slo.window} budget${ar.projected ? ` by ${ar.within}` : ''})`,
      )
      .join(' and ');
    const timing = split
      ? 'the stable arm saw the same minutes (control split)'
      : j.timed && !j.timing
        ? `the change is timed to the deploy: changes from other minutes (from ${ar.recent} before it to now, sudden or building up, lasting or come and gone), on this SLO and the deployment's others that changed, do not make the counts ${fits(TIMING_LN)} likelier than a step at the deploy (timing guard)`
        : j.timed
          ? 'the deploy is worse than that change explains (timing guard)'
          : 'the minutes around the deploy were not at hand to time the change (no timing guard)';
    message = `${slo.name}: revert by the ${which}: at ${conf} confidence this deploy burns at least ${times(j.burn_low)} beyond its baseline, past ${line}; ${facts}${share}; ${timing}`;
  } else if ((post.events ?? 0) < ar.min_events) {
    message = `${slo.name}: ${final ? 'kept, inconclusive' : 'watching'}: ${post.events} tasks since the deploy, under auto_revert.min_events (${ar.min_events}); ${facts}${share}`;
  } else if (j.status === 'clear') {
    message = `${slo.name}: kept: at ${conf} confidence this deploy stays under ${line}; ${range}; ${facts}${share}`;
  } else if (j.status === 'inconclusive') {
    message = `${slo.name}: kept, inconclusive: the ${ar.within} watch ended without ${conf} evidence either way against ${line}; ${range}; ${facts}${share}`;
  } else {
    message = `${slo.name}: watching: not yet ${conf} sure it burns past ${line}; ${range}; ${facts}${share}`;
  }
  return {
    slo: slo.name,
    status: j.status,
    rules: j.rules,
    confidence: ar.confidence,
    line_burn: lineBurn,
    line_rule: j.line_rule,
    burn_low: j.burn_low,
    burn_high: j.burn_high,
    outage_guard: j.outage_guard,
    attributable_consumed: attributable,
    projected_consumed: projected,
    threshold: ar.consumed,
    post,
    baseline_ratio: compared.ratio,
    baseline: compared,
    excess_bad: excess,
    window_budget: windowBudget,
    elapsed_ms: elapsed,
    breach: j.status === 'revert',
    message,
  };
}

/**
 * Ratio-only sources (Sloth, Pyrra rules) give no counts, so no confidence can be had: the share
 * rule is judged on the point estimate, assuming steady traffic, and the message says so.
 */
function ratioOnly(
  policy: Policy,
  slo: Slo,
  post: Sample,
  base: Sample,
  periodMs: number,
  elapsed: number,
  final: boolean,
): CanaryAssessment {
  const ar = policy.auto_revert;
  const b = 1 - slo.target;
  const p0 = base.ratio ?? 0;
  const attributable = post.ratio === null ? null : (Math.max(0, post.ratio - p0) * (elapsed / periodMs)) / b;
  const breach = attributable !== null && attributable >= ar.consumed;
  const status: JudgeStatus = breach ? 'revert' : final ? 'inconclusive' : 'watching';
  return {
    slo: slo.name,
    status,
    rules: breach ? ['consumed'] : [],
    confidence: ar.confidence,
    line_burn: null,
    line_rule: 'consumed',
    burn_low: null,
    burn_high: null,
    outage_guard: false,
    attributable_consumed: attributable,
    projected_consumed: null,
    threshold: ar.consumed,
    post,
    baseline_ratio: base.ratio,
    baseline: base,
    excess_bad: null,
    window_budget: null,
    elapsed_ms: elapsed,
    breach,
    message:
      attributable === null
        ? `${slo.name}: ${final ? 'kept, inconclusive' : 'watching'}: no ratio since the deploy yet`
        : `${slo.name}: ${breach ? 'revert by the share rule' : final ? 'kept, inconclusive' : 'watching'} on a point estimate (this source gives ratios, not counts, so no confidence): about ${pct(attributable)} of the ${slo.window} budget burned beyond the baseline against a line of ${pct(ar.consumed)}; bad ratio ${pct(post.ratio ?? 0)} after vs ${pct(p0)} before`,
  };
}

/** Whether the watcher would revert at this look: assessDeployment's `breach` without its messages and bounds. */
export function wouldBreach(
  policy: Policy,
  watch: CanaryWatch,
  result: TelemetryResult,
  at: number,
): boolean {
  if (!policy.auto_revert.enabled) return false;
  const looks = policy.slos.map((slo) => lookOf(policy, slo, watch, result, at));
  return policy.slos.some((slo, k) => {
    const seen = looks[k];
    if (!seen) return assessSlo(policy, slo, watch, result, at, undefined, null).breach;
    return wouldRevert({ ...seen.look, hints: () => sharedGuards(looks, k) });
  });
}

export function assessDeployment(
  policy: Policy,
  watch: CanaryWatch,
  result: TelemetryResult,
  at: number,
): DeploymentAssessment {
  const looks = policy.slos.map((slo) => lookOf(policy, slo, watch, result, at));
  const slos = policy.slos.map((slo, k) =>
    assessSlo(policy, slo, watch, result, at, () => sharedGuards(looks, k), looks[k]!),
  );
  const rank = (a: CanaryAssessment) => a.burn_low ?? a.attributable_consumed ?? 0;
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
