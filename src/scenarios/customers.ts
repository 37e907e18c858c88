import { MINUTE } from './fleet-model.ts';
import { normal } from './random.ts';

// Customers as both traffic simulators draw them (agent-traffic.ts for the quality report,
// fleet.ts for `simulate --fleet`): a few large ones and many small ones, one customer's bad input
// failing a run of its tasks now and then, and clients that retry what failed. Callers pass their
// own random stream: the order of draws here is part of every seed's traffic.

/**
 * Log-normal sizes: the largest often a fifth of the traffic, most a percent or less. Returns a
 * picker by traffic, drawing from `rand` unless given another stream.
 */
export function drawCustomers(rand: () => number, count = 40): (from?: () => number) => number {
  const weights = Array.from({ length: count }, () => Math.exp(1.4 * normal(rand)));
  const wsum = weights.reduce((a, b) => a + b, 0);
  const cum: number[] = [];
  weights.reduce((a, w, k) => (cum[k] = a + w / wsum), 0);
  return (from = rand) => {
    const u = from();
    let k = 0;
    while (k < count - 1 && cum[k]! < u) k++;
    return k;
  };
}

/** A customer whose input fails most of its tasks from `from` to `to` (ms since epoch). */
export interface BadBatch {
  customer: number;
  from: number;
  to: number;
}

/** Share of a bad batch's tasks that fail. */
export const BATCH_FAILURE = 0.85;

/** Bad batches over `minutes` minutes from minute `startMin`, about `perHour` an hour, each lasting `span` minutes (drawn evenly). */
export function drawBadBatches(
  rand: () => number,
  customerOf: () => number,
  startMin: number,
  minutes: number,
  perHour: number,
  [shortest, longest]: [number, number] = [1, 6],
): BadBatch[] {
  const batches: BadBatch[] = [];
  for (let m = startMin; m < startMin + minutes; m++) {
    if (rand() < perHour / 60)
      batches.push({ customer: customerOf(), from: m * MINUTE + rand() * MINUTE, to: 0 });
  }
  for (const b of batches) b.to = b.from + (shortest + rand() * (longest - shortest)) * MINUTE;
  return batches;
}

/**
 * When a client retries attempt number `retry` (0 = the first) of a task that failed, or null if
 * it gives up: most retry once or twice, some up to four times, after a few seconds.
 */
export function retryAfterMs(rand: () => number, retry: number): number | null {
  if (retry >= 4 || rand() >= (retry === 0 ? 0.8 : 0.6)) return null;
  return (2 + rand() * 30) * 1000 * (retry + 1);
}
