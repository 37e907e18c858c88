import { RANGE_WINDOW, type TelemetryRequest } from '../gate/sample.ts';
import type { Policy } from '../spec/schema.ts';
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

export const spansOf = (policy: Policy) =>
  guardSpans(
    Math.max(1, Math.round(Math.min(policy.auto_revert.baseline.ms, policy.auto_revert.recent.ms) / 60_000)),
  );

/**
 * One request for every watched deployment: the number of requests per tick does not grow with
 * watches. `onset` adds each minute since the deploy for the onset guard, and the outage guard's
 * spans under five minutes: free for the watcher, whose bucketed request is minute by minute anyway.
 */
export function planCanaryRequest(
  policy: Policy,
  watches: CanaryWatch[],
  at: number,
  opts: { onset?: boolean } = {},
): TelemetryRequest {
  const within = policy.auto_revert.within.ms;
  const baseline = policy.auto_revert.baseline.ms;
  // A span the request leaves out reads as empty, which the guard ignores.
  const spans = spansOf(policy).filter((m) => opts.onset || m >= FINE_SPAN_MIN);
  return {
    at,
    slos: policy.slos.map((slo) => ({
      slo,
      quantiles: false,
      ranges: [
        { key: RANGE_WINDOW, from: windowBounds(slo.window, at).start, to: at },
        ...watches.flatMap((w) => [
          {
            key: postKey(w.id),
            from: w.deployed_at,
            to: Math.max(w.deployed_at, Math.min(at, w.deployed_at + within)),
          },
          { key: baselineKey(w.id), from: w.deployed_at - baseline, to: w.deployed_at },
          ...spans.map((m) => ({
            key: lastKey(w.id, m),
            from: w.deployed_at - m * 60_000,
            to: w.deployed_at,
          })),
          ...(opts.onset ? blocksOf(w, at, within) : []).map(([from, to], k) => ({
            key: intervalKey(w.id, k),
            from,
            to,
          })),
        ]),
      ],
    })),
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
