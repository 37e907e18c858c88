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

export interface Quantiles {
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

export interface SloSamples {
  ranges: Record<string, Sample>;
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
