import { RANGE_WINDOW, type Range, type SloQuery, type TelemetryRequest } from '../gate/sample.ts';
import type { Policy, Slo } from '../spec/schema.ts';
import { windowBounds } from '../time/window.ts';
import { FINE_SPAN_MIN, guardSpans, ONSET_BLOCK_MIN } from './judge.ts';

// What the canary judge asks of a telemetry source for each watched deployment: the ranges after
// and before the deploy, the outage guard's recent spans and the onset guard's blocks, each under
// a key the watcher's bucketing and the assessment both read.

export interface CanaryWatch {
  id: string;
  /** When the deployment went live, ms since epoch. */
  deployed_at: number;
}

export const postKey = (id: string) => `post:${id}`;
export const baselineKey = (id: string) => `baseline:${id}`;
/** The baseline's last `minutes` (the outage guard); keyed under `baseline:` so the watcher buckets it too. */
export const lastKey = (id: string, minutes: number) => `baseline:${id}:last:${minutes}m`;
/** The k-th onset block after the deploy (the onset guard); keyed under `post:` for the same reason. */
export const intervalKey = (id: string, k: number) => `post:${id}:${k}`;

/** The k-th interval of the baseline, oldest first (the overdispersion estimate); keyed under `baseline:`. */
export const baselineBlockKey = (id: string, k: number) => `baseline:${id}:b:${k}`;
/** One interval of the replay's grid, k from the start of the baseline. */
export const gridKey = (k: number) => `grid:${k}`;

export type ControlRole = 'canary' | 'stable' | 'control';

/**
 * The control series of one SLO as SLOs of their own: the same SLI and target over the canary and
 * the stable arm of a split (the SLO's scope and the arm), or over the control scope instead.
 */
export function controlSlos(policy: Policy, slo: Slo): Array<{ role: ControlRole; slo: Slo }> {
  // Read for every watch at every look: derived once per SLO of a loaded policy.
  const hit = CONTROLS.get(slo);
  if (hit && hit.policy === policy) return hit.roles;
  const roles = deriveControls(policy, slo);
  CONTROLS.set(slo, { policy, roles });
  return roles;
}

const CONTROLS = new WeakMap<Slo, { policy: Policy; roles: Array<{ role: ControlRole; slo: Slo }> }>();

function deriveControls(policy: Policy, slo: Slo): Array<{ role: ControlRole; slo: Slo }> {
  const c = policy.auto_revert.control;
  if (!c) return [];
  const named = (role: ControlRole, scope: Slo['scope']): { role: ControlRole; slo: Slo } => {
    const { source: _source, ...rest } = slo;
    return { role, slo: { ...rest, name: controlName(slo.name, role), scope } };
  };
  if ('split' in c) {
    const base = slo.scope === 'all' ? {} : slo.scope;
    return [
      named('canary', { ...base, [c.split.by]: c.split.canary }),
      named('stable', { ...base, [c.split.by]: c.split.stable }),
    ];
  }
  return [named('control', c.scope)];
}

/** The result key of an SLO's control series. */
export const controlName = (slo: string, role: ControlRole) => `${slo} (${role})`;

/**
 * cluster_by counts a cluster's bad tasks once per this many intervals (3 minutes at 1m): a
 * customer's run of failures lasts minutes, and at under a task a minute one bad batch a minute
 * still read as a deploy (3 of 2,000 healthy deploys at 0.6 tasks a minute with a 1-minute cell,
 * none with 3; a 5-minute cell cost 1% → 10% at 5 a minute a tenth of its recall).
 */
const CLUSTER_CELL_INTERVALS = 3;

/** The cluster bound of the policy, for a query. */
const clusterOf = (policy: Policy): Pick<SloQuery, 'cluster'> =>
  policy.auto_revert.cluster_by
    ? {
        cluster: {
          by: policy.auto_revert.cluster_by,
          cellMs: policy.auto_revert.interval.ms * CLUSTER_CELL_INTERVALS,
        },
      }
    : {};

const SPANS = new WeakMap<Policy, number[]>();

export const spansOf = (policy: Policy): number[] => {
  let spans = SPANS.get(policy);
  if (!spans) {
    spans = guardSpans(
      Math.max(
        1,
        Math.round(Math.min(policy.auto_revert.baseline.ms, policy.auto_revert.recent.ms) / 60_000),
      ),
    );
    SPANS.set(policy, spans);
  }
  return spans;
};

/**
 * One request for every watched deployment: the number of requests per tick does not grow with
 * watches. `onset` adds each minute since the deploy for the onset guard, and the outage guard's
 * spans under five minutes: free for the watcher, whose bucketed request is minute by minute anyway.
 */
export function planCanaryRequest(
  policy: Policy,
  watches: CanaryWatch[],
  at: number,
  opts: { onset?: boolean; grid?: boolean } = {},
): TelemetryRequest {
  const within = policy.auto_revert.within.ms;
  const baseline = policy.auto_revert.baseline.ms;
  const interval = policy.auto_revert.interval.ms;
  // A span the request leaves out reads as empty, which the guard ignores.
  const spans = spansOf(policy).filter((m) => opts.onset || m >= FINE_SPAN_MIN);
  // Each watch's ranges are pushed into its SLO's array rather than spread from arrays of their
  // own, and its two keys are made once for every SLO: the watcher plans 10,000 watches a tick.
  const posts = watches.map((w) => postKey(w.id));
  const bases = watches.map((w) => baselineKey(w.id));
  const watchRanges = (ranges: Range[], guards: boolean): Range[] => {
    for (let i = 0; i < watches.length; i++) {
      const w = watches[i]!;
      const d = w.deployed_at;
      ranges.push(
        { key: posts[i]!, from: d, to: Math.max(d, Math.min(at, d + within)) },
        { key: bases[i]!, from: d - baseline, to: d },
      );
      // On a grid (the watcher's bucketed request) every interval is there already: the judge
      // reads the spans and the blocks from it, so no watch asks for more.
      if (!guards || opts.grid) continue;
      for (const m of spans) ranges.push({ key: lastKey(w.id, m), from: d - m * 60_000, to: d });
      if (!opts.onset) continue;
      const blocks = blocksOf(w, at, within);
      for (let k = 0; k < blocks.length; k++)
        ranges.push({ key: intervalKey(w.id, k), from: blocks[k]![0], to: blocks[k]![1] });
      const before = baselineBlocksOf(w, baseline, interval);
      for (let k = 0; k < before.length; k++)
        ranges.push({ key: baselineBlockKey(w.id, k), from: before[k]![0], to: before[k]![1] });
    }
    return ranges;
  };
  const cluster = clusterOf(policy);
  return {
    at,
    slos: policy.slos.flatMap((slo) => [
      {
        slo,
        quantiles: false,
        ...cluster,
        ranges: watchRanges([{ key: RANGE_WINDOW, from: windowBounds(slo.window, at).start, to: at }], true),
      },
      // The control series: the same minutes after and before each deploy, nothing else. Only in
      // a minute-resolution request (the CLI's, the watcher's bucketed one): the plain request is
      // the fallback for ratio-only sources, which have no task attributes to split by.
      ...(opts.onset ? controlSlos(policy, slo) : []).map((c) => ({
        slo: c.slo,
        quantiles: false,
        attributes: true,
        ...cluster,
        ranges: watchRanges([], false),
      })),
    ]),
  };
}

/** The baseline in intervals, oldest first. */
export function baselineBlocksOf(
  w: CanaryWatch,
  baseline: number,
  interval: number,
): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let from = w.deployed_at - baseline; from < w.deployed_at; from += interval)
    out.push([from, Math.min(w.deployed_at, from + interval)]);
  return out;
}

/** The deploy as the bot places it: on the nearest line of the interval grid. */
export const snapToGrid = (t: number, interval: number) => Math.round(t / interval) * interval;

/**
 * The replay's one request: every interval from the start of the baseline to the end of the
 * watch, for each SLO and its control series, on the grid the bot buckets on. Each look of the
 * replay is then summed from these (replay.ts).
 */
export function planReplayRequest(policy: Policy, watch: CanaryWatch): TelemetryRequest {
  const ar = policy.auto_revert;
  const interval = ar.interval.ms;
  const start = snapToGrid(watch.deployed_at, interval) - Math.ceil(ar.baseline.ms / interval) * interval;
  const end = snapToGrid(watch.deployed_at, interval) + Math.ceil(ar.within.ms / interval) * interval;
  const ranges: Range[] = [];
  for (let from = start, k = 0; from < end; from += interval, k++)
    ranges.push({ key: gridKey(k), from, to: from + interval });
  const cluster = clusterOf(policy);
  return {
    at: end,
    slos: policy.slos.flatMap((slo) => [
      { slo, quantiles: false, ...cluster, ranges },
      ...controlSlos(policy, slo).map((c) => ({
        slo: c.slo,
        quantiles: false,
        attributes: true,
        ...cluster,
        ranges,
      })),
    ]),
  };
}

/** The onset blocks since the deploy, up to now and the end of the watch. */
export function blocksOf(w: CanaryWatch, at: number, within: number): Array<[number, number]> {
  const end = Math.min(at, w.deployed_at + within);
  const step = ONSET_BLOCK_MIN * 60_000;
  const out: Array<[number, number]> = [];
  for (let from = w.deployed_at; from < end; from += step) out.push([from, Math.min(end, from + step)]);
  return out;
}
