import { z } from 'zod';

// The three 30-day stories the demo and `simulate` tell. Each gives the failure rate as a multiple
// of the error budget's rate (1.0 = exactly on budget) at a point x ∈ [0, 1] of the period.

export const scenarioName = z.enum(['healthy', 'rising', 'on-fire']);
export type ScenarioName = z.infer<typeof scenarioName>;

export interface Scenario {
  name: ScenarioName;
  summary: string;
  /** Burn multiple of the success SLI at x ∈ [0, 1]. */
  burn: (x: number) => number;
}

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  healthy: {
    name: 'healthy',
    summary: 'steady traffic, failures at 45% of the budget rate',
    burn: () => 0.45,
  },
  rising: {
    name: 'rising',
    summary: 'a slow regression: the failure rate climbs from nothing to 1.9x the budget rate',
    burn: (x) => 1.9 * x * x,
  },
  'on-fire': {
    name: 'on-fire',
    summary: 'healthy for three weeks, then a provider incident at 5x the budget rate',
    burn: (x) => (x < 0.7 ? 0.5 : 5),
  },
};
