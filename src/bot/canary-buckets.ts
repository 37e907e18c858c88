import {
  countSample,
  RANGE_WINDOW,
  type Range,
  type Sample,
  type TelemetryRequest,
  type TelemetryResult,
} from '../policy/gate/sample.ts';

// planCanaryRequest asks for two ranges per watched deployment (post-deploy and baseline), so a
// source that turns ranges into queries (Prometheus) would send more sub-queries, and at some
// point more HTTP requests, with every deployment watched. Here the per-watch ranges are snapped to
// a grid (the policy's check interval) and replaced by the grid's buckets, which cover at most
// baseline + within of time whatever the number of watches; each watch's ranges are then summed
// back from the buckets. The price is resolution: a deploy is placed on the nearest grid line.

const BUCKET_PREFIX = 'bucket:';

export interface BucketedRequest {
  request: TelemetryRequest;
  /** The original ranges' samples summed from the buckets; null when the source gave ratios only. */
  answer(result: TelemetryResult): TelemetryResult | null;
  buckets: number;
}

function snap(t: number, at: number, grid: number): number {
  if (t >= at) return at;
  return Math.min(at, Math.round(t / grid) * grid);
}

interface Snapped {
  key: string;
  from: number;
  to: number;
}

function snapOne(r: Range, at: number, grid: number): Snapped {
  const from = snap(r.from, at, grid);
  return { key: r.key, from, to: Math.max(from, snap(r.to, at, grid)) };
}

/** The per-watch ranges (after and before a deploy), which buckets replace; the rest are kept. */
const bucketed = (r: Range) =>
  r.key !== RANGE_WINDOW && (r.key.startsWith('post:') || r.key.startsWith('baseline:'));

/**
 * `fill`: every grid line between the first range's start and the last one's end becomes a bucket
 * edge, so the buckets are the grid itself and the answer is one grid per SLO (GridCounts) that the
 * judge reads every watch from: no range per watch is summed or kept.
 */
export function bucketRequest(
  request: TelemetryRequest,
  gridMs: number,
  opts: { fill?: boolean } = {},
): BucketedRequest {
  const at = request.at;
  let buckets = 0;
  const plans = request.slos.map((q) => {
    const kept: Range[] = [];
    let snapped: Snapped[] | null = null;
    let bounds: number[];
    if (opts.fill) {
      // Filled, the buckets are every grid line from the earliest snapped start to the latest end
      // (snapped points are grid lines, or `at`, which can only be the latest): two numbers per
      // SLO rather than a set of every watch's points. The ranges themselves are only needed
      // when none is left (then each reads empty), and are snapped again in that case.
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const r of q.ranges) {
        if (!bucketed(r)) {
          kept.push(r);
          continue;
        }
        const from = snap(r.from, at, gridMs);
        const to = Math.max(from, snap(r.to, at, gridMs));
        if (to > from) {
          if (from < lo) lo = from;
          if (to > hi) hi = to;
        }
      }
      bounds = [];
      if (hi > lo) {
        for (let t = lo; t < hi; t += gridMs) bounds.push(t);
        bounds.push(hi);
      }
    } else {
      snapped = [];
      const points = new Set<number>();
      for (const r of q.ranges) {
        if (!bucketed(r)) {
          kept.push(r);
          continue;
        }
        const s = snapOne(r, at, gridMs);
        snapped.push(s);
        if (s.to > s.from) points.add(s.from).add(s.to);
      }
      bounds = [...points].sort((a, b) => a - b);
    }
    const bucketRanges: Range[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      bucketRanges.push({ key: `${BUCKET_PREFIX}${i}`, from: bounds[i]!, to: bounds[i + 1]! });
    }
    buckets += bucketRanges.length;
    const snappedRanges = () => snapped ?? q.ranges.filter(bucketed).map((r) => snapOne(r, at, gridMs));
    return { q, kept, snappedRanges, bounds, bucketRanges };
  });

  return {
    buckets,
    request: {
      at,
      slos: plans.map((p) => ({ ...p.q, ranges: [...p.kept, ...p.bucketRanges] })),
    },
    answer(result) {
      const slos: TelemetryResult['slos'] = {};
      for (const p of plans) {
        const got = result.slos[p.q.slo.name];
        const ranges: Record<string, Sample> = {};
        for (const r of p.kept) if (got?.ranges[r.key]) ranges[r.key] = got.ranges[r.key]!;
        // Prefix sums over the buckets: one pass, then each watch's range is two lookups.
        const events = [0];
        const bad = [0];
        for (let i = 0; i < p.bucketRanges.length; i++) {
          const s = got?.ranges[`${BUCKET_PREFIX}${i}`] ?? countSample(0, 0);
          if (s.events === null || s.bad === null) return null;
          events.push(events[i]! + s.events);
          bad.push(bad[i]! + s.bad);
        }
        // Buckets one grid interval each (the last one cut short at the evaluation time): the
        // judge reads every watch from the one grid, and no per-watch range is built at all.
        if (regular(p.bounds, gridMs)) {
          slos[p.q.slo.name] = {
            ranges,
            grid: {
              from: p.bounds[0]!,
              step: gridMs,
              end: at,
              events: Float64Array.from(events),
              bad: Float64Array.from(bad),
            },
            ...(got?.quantiles !== undefined ? { quantiles: got.quantiles } : {}),
          };
          continue;
        }
        const index = new Map(p.bounds.map((b, i) => [b, i]));
        for (const r of p.snappedRanges()) {
          if (r.to <= r.from) {
            ranges[r.key] = countSample(0, 0);
            continue;
          }
          const i = index.get(r.from)!;
          const j = index.get(r.to)!;
          ranges[r.key] = countSample(events[j]! - events[i]!, bad[j]! - bad[i]!);
        }
        slos[p.q.slo.name] = {
          ranges,
          ...(got?.quantiles !== undefined ? { quantiles: got.quantiles } : {}),
        };
      }
      return {
        slos,
        ...(result.stats ? { stats: result.stats } : {}),
        ...(result.warnings ? { warnings: result.warnings } : {}),
      };
    },
  };
}

/** Grid lines one interval apart, the last gap possibly shorter (it ends at the evaluation time). */
function regular(bounds: number[], gridMs: number): boolean {
  if (bounds.length < 2) return false;
  for (let i = 0; i + 2 < bounds.length; i++) if (bounds[i + 1]! - bounds[i]! !== gridMs) return false;
  const lastGap = bounds.at(-1)! - bounds.at(-2)!;
  return lastGap > 0 && lastGap <= gridMs;
}
