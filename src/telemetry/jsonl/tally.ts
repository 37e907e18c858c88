import { DDSketch } from '@datadog/sketches-js';
import { countSample, RANGE_WINDOW, type SloQuery, type SloSamples } from '../../policy/gate/sample.ts';
import type { Slo } from '../../policy/spec/schema.ts';
import type { TaskRecord } from './record.ts';
import { scopeMatcher } from './scope.ts';

// Counts good and bad tasks for one SLO in each requested range, and sketches the SLI's measured
// value over the window. A sketch, not a sorted array, so quantiles cost constant memory.

/** 1% relative error on p50/p95/p99: a 10 s threshold reads as 9.9–10.1 s at worst. */
const RELATIVE_ACCURACY = 0.01;

/** true = bad, false = good, null = the task does not carry this SLI (e.g. no latency recorded). */
function badnessOf(sli: Slo['sli']): (r: TaskRecord) => boolean | null {
  switch (sli.kind) {
    case 'success':
      return (r) => !r.ok;
    case 'latency':
      return (r) => (r.latency_ms === undefined ? null : r.latency_ms > sli.threshold_ms);
    case 'cost':
      return (r) => (r.cost_usd === undefined ? null : r.cost_usd > sli.threshold_usd);
  }
}

function measuredValue(sli: Slo['sli']): ((r: TaskRecord) => number | undefined) | null {
  if (sli.kind === 'latency') return (r) => r.latency_ms;
  if (sli.kind === 'cost') return (r) => r.cost_usd;
  return null;
}

export class SloTally {
  readonly name: string;
  private readonly inScope: (attrs: Record<string, unknown> | undefined) => boolean;
  private readonly badness: (r: TaskRecord) => boolean | null;
  private readonly from: Float64Array;
  private readonly to: Float64Array;
  /** Sorted distinct range edges; segment i is (edges[i], edges[i+1]]. */
  private readonly edges: Float64Array;
  /** For each segment, the ranges that contain it whole: a task counts in exactly those. */
  private readonly covering: Uint16Array[];
  /** Tasks arrive roughly in time order: the last segment hit is the best first guess. */
  private lastSegment = 0;
  private readonly events: Float64Array;
  private readonly bad: Float64Array;
  private readonly keys: string[];
  private readonly windowIndex: number;
  private readonly value: ((r: TaskRecord) => number | undefined) | null;
  private readonly sketch: DDSketch | null;
  private readonly cluster: { by: string; cellMs: number } | null;
  /** Each cluster's last counted failure: its cell, the cells skipped after it, and the run so far. */
  private readonly failed = new Map<string, { cell: number; skipUntil: number; run: number }>();
  /** Earliest start and latest end over all ranges: most records fall outside and are dropped early. */
  readonly lo: number;
  readonly hi: number;

  constructor(query: SloQuery) {
    this.name = query.slo.name;
    this.inScope = scopeMatcher(query.slo.scope);
    this.badness = badnessOf(query.slo.sli);
    const n = query.ranges.length;
    this.keys = query.ranges.map((r) => r.key);
    this.from = Float64Array.from(query.ranges, (r) => r.from);
    this.to = Float64Array.from(query.ranges, (r) => r.to);
    this.events = new Float64Array(n);
    this.bad = new Float64Array(n);
    this.windowIndex = this.keys.indexOf(RANGE_WINDOW);
    this.value = query.quantiles ? measuredValue(query.slo.sli) : null;
    this.cluster = query.cluster ?? null;
    this.sketch = this.value ? new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }) : null;
    this.lo = n ? Math.min(...this.from) : 0;
    this.hi = n ? Math.max(...this.to) : 0;
    this.edges = Float64Array.from(new Set([...this.from, ...this.to])).sort();
    this.covering = [];
    for (let i = 0; i + 1 < this.edges.length; i++) {
      const a = this.edges[i]!;
      const b = this.edges[i + 1]!;
      const inside: number[] = [];
      for (let r = 0; r < n; r++) if (this.from[r]! <= a && b <= this.to[r]!) inside.push(r);
      this.covering.push(Uint16Array.from(inside));
    }
  }

  /** The segment (edges[i], edges[i+1]] holding t; the caller has checked lo < t <= hi. */
  private segmentOf(t: number): number {
    const e = this.edges;
    const guess = this.lastSegment;
    if (t > e[guess]! && t <= e[guess + 1]!) return guess;
    let lo = 0;
    let hi = e.length - 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (t > e[mid + 1]!) lo = mid + 1;
      else hi = mid;
    }
    this.lastSegment = lo;
    return lo;
  }

  add(r: TaskRecord): void {
    const t = r.time;
    // Ranges are half-open (from, to]: a task at exactly `at` counts, one at the window start does not.
    if (t <= this.lo || t > this.hi || !this.inScope(r.attrs)) return;
    const isBad = this.badness(r);
    if (isBad === null) return;
    if (this.cluster && this.repeats(r, isBad)) return;
    const hits = this.covering[this.segmentOf(t)]!;
    for (let k = 0; k < hits.length; k++) {
      const i = hits[k]!;
      this.events[i]!++;
      if (isBad) this.bad[i]!++;
    }
    const w = this.windowIndex;
    if (this.sketch && w >= 0 && t > this.from[w]! && t <= this.to[w]!) {
      const v = this.value!(r);
      if (v !== undefined) this.sketch.accept(v);
    }
  }

  /**
   * A task the cluster bound leaves out. A cluster's cell is counted up to and including its first
   * failure, and not after: a retry of the same failure, the same customer's bad input again, or
   * its next task in the cell. The ratio stays unbiased (a count stopped at the first failure has
   * E[bad] / E[tasks] = p when failures are independent), where dropping only the repeated
   * failures would read a regression that fails a big customer twice in a cell as milder than it
   * is. A cluster that fails cell after cell (a bad input that lasts) has the cells after its
   * second, third... failing cell skipped whole, one, two, four...: the decision to skip is made
   * before the cell's tasks are seen, so it thins the counts without biasing them, and a
   * customer's 20-minute run weighs four failures, not seven.
   */
  private repeats(r: TaskRecord, isBad: boolean): boolean {
    const c = this.cluster!;
    const key = r.attrs?.[c.by];
    if (key === undefined || key === null) return false;
    const id = String(key);
    const cell = Math.floor(r.time / c.cellMs);
    const last = this.failed.get(id);
    if (last && cell <= last.skipUntil) return true;
    if (isBad) {
      // A failure in the first cell counted after the last one (or its skip) carries the run on:
      // from the second on, the cells after it are skipped, one, then two, four...
      const run = last && cell === last.skipUntil + 1 ? last.run + 1 : 1;
      const skip = run >= 2 ? 2 ** (run - 2) : 0;
      this.failed.set(id, { cell, skipUntil: cell + skip, run });
    }
    return false;
  }

  samples(): SloSamples {
    const ranges: SloSamples['ranges'] = {};
    this.keys.forEach((key, i) => {
      ranges[key] = countSample(this.events[i]!, this.bad[i]!);
    });
    const s = this.sketch;
    const quantiles =
      s && s.count > 0
        ? { p50: s.getValueAtQuantile(0.5), p95: s.getValueAtQuantile(0.95), p99: s.getValueAtQuantile(0.99) }
        : null;
    return { ranges, quantiles };
  }
}
