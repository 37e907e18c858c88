import { BATCH_FAILURE, type BadBatch } from './customers.ts';
import { COST, LATENCY, MINUTE } from './fleet-model.ts';
import { type Incident, throughIncidents } from './incidents.ts';
import { normal } from './random.ts';
import { KINDS, type Kind, pickKind } from './task-kinds.ts';

// One attempt at a task in `simulate --fleet`: its kind, how it went, how long it took and what it
// cost. The scope's minute rates say how the fleet runs on average; the kind moves a task off that
// average, the incidents and its customer's bad input on top.

/** The default mix's averages: a kind's factor is its own over these, so the default mix keeps the scope's rates. */
const MIX = {
  fail: KINDS.reduce((a, k) => a + k.share * k.fail, 0),
  latencyMs: KINDS.reduce((a, k) => a + k.share * k.latencyMs, 0),
  costUsd: KINDS.reduce((a, k) => a + k.share * k.costUsd, 0),
};

/** How a kind runs against the mix: its failure exponent and latency and cost factors. */
export const kindFactors = (k: Kind) => ({
  fail: k.fail / MIX.fail,
  latency: k.latencyMs / MIX.latencyMs,
  cost: k.costUsd / MIX.costUsd,
});

/** The rates of one arm of one scope for one minute (the failure ratio already noisy). */
export interface ArmRates {
  failure: number;
  latencyFactor: number;
  costFactor: number;
}

export interface Attempt {
  t: number;
  customer: number;
  retry: number;
}

export function runAttempt(
  rand: () => number,
  a: Attempt,
  research: number,
  rates: ArmRates,
  incidents: readonly Incident[],
  batches: readonly BadBatch[],
) {
  const kind = pickKind(rand, research);
  const f = kindFactors(kind);
  // A kind that fails k times as often as the mix: 1 - (1-p)^k keeps ratios near 1 in bounds.
  const fail = 1 - (1 - rates.failure) ** f.fail;
  let latency = LATENCY.medianMs * rates.latencyFactor * f.latency * Math.exp(LATENCY.sigma * normal(rand));
  const cost = COST.medianUsd * rates.costFactor * f.cost * Math.exp(COST.sigma * normal(rand));
  let ok = rand() >= fail;
  ({ ok, latency } = throughIncidents(rand, incidents, Math.floor(a.t / MINUTE), { ok, latency }));
  const badInput = batches.some((b) => b.customer === a.customer && a.t >= b.from && a.t < b.to);
  if (badInput && rand() < BATCH_FAILURE) ok = false;
  return {
    kind: kind.name,
    ok,
    latency_ms: Math.round(latency),
    cost_usd: Math.round(cost * 100_000) / 100_000,
  };
}
