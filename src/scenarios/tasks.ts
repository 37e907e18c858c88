import { normal, seededRandom } from './random.ts';
import { SCENARIOS, type ScenarioName } from './scenarios.ts';

export interface TaskLine {
  time: string;
  ok: boolean;
  latency_ms: number;
  cost_usd: number;
  attrs: { tier: 'paid' | 'free'; service: string };
}

export interface GenerateOptions {
  scenario: ScenarioName;
  /** ms since epoch: the last task is at or before this. */
  end: number;
  days: number;
  tasksPerDay: number;
  seed: number;
  /** The success target the scenario's burn multiple is relative to. */
  target: number;
  /** The latency and cost SLOs' targets and thresholds the tails are shaped around. */
  latencyThresholdMs?: number;
  costThresholdUsd?: number;
}

const MINUTE = 60_000;
const SERVICES = ['refunds', 'billing', 'search', 'support'];
/** Latency and cost stay healthy in every scenario: a tenth of tasks beyond 95% targets' limit would be 2x. */
const TAIL_BURN = 0.5;
const TAIL_BUDGET = 0.05;

/** Traffic peaks mid-afternoon UTC and bottoms out before dawn, ±60%. */
function diurnal(t: number): number {
  const hour = (t / 3_600_000) % 24;
  return 1 + 0.6 * Math.sin((2 * Math.PI * (hour - 9)) / 24);
}

/** Realistic agent tasks, minute by minute, for the chosen scenario. Deterministic for a given seed. */
export function* generateTasks(opts: GenerateOptions): Generator<TaskLine> {
  const rand = seededRandom(opts.seed);
  const start = opts.end - opts.days * 86_400_000;
  const perMinute = opts.tasksPerDay / 1440;
  const budget = 1 - opts.target;
  const burn = SCENARIOS[opts.scenario].burn;
  const latencyLimit = opts.latencyThresholdMs ?? 10_000;
  const costLimit = opts.costThresholdUsd ?? 0.04;
  for (let m = start; m < opts.end; m += MINUTE) {
    const x = (m - start) / (opts.end - start);
    // Poisson-ish arrivals: the expected count with ±30% noise, rounded stochastically.
    const expected = perMinute * diurnal(m) * (1 + 0.3 * (rand() - 0.5));
    const count = Math.floor(expected) + (rand() < expected % 1 ? 1 : 0);
    const failRate = Math.min(1, budget * burn(x) * (1 + 0.2 * normal(rand)));
    for (let i = 0; i < count; i++) {
      const at = m + Math.floor(rand() * MINUTE);
      const tier = rand() < 0.4 ? 'paid' : 'free';
      const slowTail = rand() < TAIL_BUDGET * TAIL_BURN;
      const latency = slowTail
        ? latencyLimit * (1 + rand() * 2)
        : Math.min(latencyLimit * 0.98, 2500 * Math.exp(0.5 * normal(rand)));
      const costTail = rand() < TAIL_BUDGET * TAIL_BURN;
      const cost = costTail
        ? costLimit * (1 + rand())
        : Math.min(costLimit * 0.98, 0.015 * Math.exp(0.4 * normal(rand)));
      yield {
        time: new Date(at).toISOString(),
        ok: rand() >= Math.max(0, failRate),
        latency_ms: Math.round(latency),
        cost_usd: Math.round(cost * 10_000) / 10_000,
        attrs: { tier, service: SERVICES[Math.floor(rand() * SERVICES.length)]! },
      };
    }
  }
}
