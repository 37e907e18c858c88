import type { WindowBounds } from '../time/window.ts';
import type { Sample } from './sample.ts';

// The error-budget arithmetic, on plain numbers. Budget = (1 - target) of the events in the window;
// consumed = bad / budget, which is the same as bad ratio / (1 - target), so ratio-only sources
// (no event counts) get the same answer. Burn rate = bad ratio / (1 - target): 1.0 spends exactly
// the budget over the window.

export function budgetEvents(events: number, target: number): number {
  return (1 - target) * events;
}

export function consumedOf(sample: Sample, target: number): number | null {
  if (sample.ratio !== null) return sample.ratio / (1 - target);
  if (sample.events === 0) return 0;
  return null;
}

export function burnRate(sample: Sample | undefined, target: number): number | null {
  if (!sample || sample.ratio === null) return null;
  return sample.ratio / (1 - target);
}

/**
 * When the budget runs out if the current burn holds. Rolling windows only run out at a burn above
 * 1 (below it, consumption settles at the burn rate); calendar windows refill at the period's end,
 * so a projection past it is no exhaustion. Returns ms since epoch, `at` when already exhausted,
 * or null.
 */
export function projectExhaustion(
  consumed: number | null,
  burn: number | null,
  bounds: WindowBounds,
  rolling: boolean,
): number | null {
  if (consumed === null) return null;
  if (consumed >= 1) return bounds.end;
  if (burn === null || burn <= 0) return null;
  if (rolling && burn <= 1) return null;
  const msLeft = ((1 - consumed) * bounds.periodMs) / burn;
  const when = bounds.end + msLeft;
  if (!rolling && when > bounds.start + bounds.periodMs) return null;
  return when;
}

/**
 * Detection time of a burn-rate alert: after a sudden, constant burn starts, how long until the
 * long window's average reaches the alert's rate (the short window gets there sooner).
 */
export function detectionTimeMs(alertBurn: number, longMs: number, actualBurn: number): number | null {
  if (actualBurn < alertBurn) return null;
  return (alertBurn / actualBurn) * longMs;
}
