import type { Slo } from '../spec/schema.ts';

/**
 * What a telemetry source reports for one SLO over one time range. Counting sources (JSONL,
 * Prometheus counters) fill `events` and `bad`; ratio-only sources (Sloth's recording rules) fill
 * only `ratio`. `ratio` is bad/events, or null when nothing happened in the range.
 */
export interface Sample {
  events: number | null;
  bad: number | null;
  ratio: number | null;
}

export function countSample(events: number, bad: number): Sample {
  return { events, bad, ratio: events > 0 ? bad / events : null };
}

export function ratioSample(ratio: number | null): Sample {
  return { events: null, bad: null, ratio };
}

/** A half-open time range (from, to], ms since epoch, that a source must count events in. */
export interface Range {
  key: string;
  from: number;
  to: number;
}

interface Quantiles {
  p50: number;
  p95: number;
  p99: number;
}

/** One SLO's share of a telemetry request: the SLO itself, the ranges wanted, and whether quantiles are. */
export interface SloQuery {
  slo: Slo;
  ranges: Range[];
  /** Quantiles of the SLI's measured value (latency_ms or cost_usd) over the range keyed `window`. */
  quantiles: boolean;
  /**
   * Count a cluster's bad tasks once per cell: the attribute naming the cluster (a customer, a
   * session) and the cell length. Sources without task attributes (Prometheus) ignore it.
   */
  cluster?: { by: string; cellMs: number };
  /**
   * A series defined by task attributes (the canary judge's control arms): sources without task
   * attributes (Prometheus) leave it out of their answer, and the judge goes without it.
   */
  attributes?: boolean;
}

export interface TelemetryRequest {
  at: number;
  slos: SloQuery[];
  /**
   * Look for the newest data this far back (ms) before `at`, where a source has to ask for it
   * (Prometheus); unset, such a source does not report freshness.
   */
  freshnessSpan?: number;
}

/**
 * Counts on a regular grid, as prefix sums: interval k is (from + k·step, from + (k+1)·step], its
 * tasks events[k+1] - events[k]. The canary replay reads every look of a watch from one of these.
 */
export interface GridCounts {
  from: number;
  step: number;
  /** Where the last interval ends when it is cut short (the evaluation time); a time at or past it reads as the end. */
  end?: number;
  events: Float64Array;
  bad: Float64Array;
}

export interface SloSamples {
  ranges: Record<string, Sample>;
  grid?: GridCounts;
  quantiles?: Quantiles | null;
}

/**
 * How current a source's data is: the time of the newest data it holds at or before the request's
 * `at` (null: none at all), for the pipeline to hold against `states.max_data_age`.
 */
export interface Freshness {
  /** Which default applies: `jsonl` (a file of sparse tasks) or `prometheus` (a live scrape). */
  source: 'jsonl' | 'prometheus';
  newest: number | null;
  /** How far back before `at` the source looked (Prometheus); absent when it read everything. */
  looked?: number;
}

export interface TelemetryResult {
  /** Keyed by SLO name. */
  slos: Record<string, SloSamples>;
  /** Absent where a source cannot tell (in-memory records, a query with no selector to probe). */
  freshness?: Freshness;
  /** Figures about the fetch for the report: requests made, lines read, lines skipped. */
  stats?: Record<string, number>;
  warnings?: string[];
}

/** Range keys the planner uses; sources treat keys as opaque. */
export const RANGE_WINDOW = 'window';
export const lookbackKey = (spec: string): string => `lookback:${spec}`;
export const seriesKey = (i: number): string => `series:${i}`;
