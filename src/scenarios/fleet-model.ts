import { normal } from './random.ts';

// The fleet's traffic as rates per minute: the scopes' volumes and shape, base ratios and deploys
// that `simulate --fleet` expands into task lines, and that the quality report's per-minute trials
// (fleet-trials.ts) draw counts from directly (thousands of deploys would be millions of lines).
// The JSONL adds what counts cannot carry — customers, retries, task kinds, ramping incidents
// (customers.ts, task-kinds.ts, incidents.ts); the trials keep this file's step outages.

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export interface ScopeProfile {
  name: string;
  tier: 'paid' | 'free';
  /** Mean tasks a minute over a week. */
  perMinute: number;
  /** Share of tasks that fail when nothing is wrong. */
  baseFailure: number;
}

/** A busy paid scope and a free one under a task a minute: volumes an order of magnitude apart and more. */
export const FLEET_SCOPES: ScopeProfile[] = [
  { name: 'paid', tier: 'paid', perMinute: 30, baseFailure: 0.01 },
  { name: 'free', tier: 'free', perMinute: 0.6, baseFailure: 0.03 },
];

/** Latency: log-normal around a 2.5 s median; 1% of tasks pass the 10 s threshold when healthy. */
export const LATENCY = { medianMs: 2500, sigma: 0.6, thresholdMs: 10_000 };
/** Cost per task: log-normal around $0.015; about 1.5% pass $0.04 when healthy. */
export const COST = { medianUsd: 0.015, sigma: 0.45, thresholdUsd: 0.04 };

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 on erf; error < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Share of tasks over the latency threshold when every latency is multiplied by `factor`. */
export const latencyOver = (factor = 1) =>
  1 - normalCdf(Math.log(LATENCY.thresholdMs / (LATENCY.medianMs * factor)) / LATENCY.sigma);
/** Share of tasks over the cost threshold when every cost is multiplied by `factor`. */
export const costOver = (factor = 1) =>
  1 - normalCdf(Math.log(COST.thresholdUsd / (COST.medianUsd * factor)) / COST.sigma);

/** Busiest mid-afternoon UTC, quietest before dawn (±50%); weekends at 60%. Mean 1 over a week. */
export function trafficShape(t: number): number {
  const hour = (t % DAY) / HOUR;
  const day = Math.floor(t / DAY + 4) % 7; // 1970-01-01 was a Thursday: 0 = Sunday
  const weekly = day === 0 || day === 6 ? 0.6 : 1.16;
  return weekly * (1 + 0.5 * Math.sin((2 * Math.PI * (hour - 9)) / 24));
}

/** Gamma(shape, 1) by Marsaglia–Tsang (shape >= 1). */
function gamma(rand: () => number, shape: number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rand);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rand();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Poisson by inversion for small means, normal approximation for large ones. */
function poisson(rand: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 60) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(rand)));
  let k = 0;
  let p = Math.exp(-mean);
  let s = p;
  const u = rand();
  while (u > s && k < 1000) {
    k++;
    p *= mean / k;
    s += p;
  }
  return k;
}

export function binomial(rand: () => number, n: number, p: number): number {
  if (p <= 0 || n === 0) return 0;
  if (p >= 1) return n;
  let x = 0;
  for (let i = 0; i < n; i++) if (rand() < p) x++;
  return x;
}

/** Bursty arrivals: Poisson with a gamma-distributed rate (shape 4: a minute's rate varies ±50%). */
const BURST_SHAPE = 4;
export function arrivals(rand: () => number, mean: number): number {
  return poisson(rand, (mean * gamma(rand, BURST_SHAPE)) / BURST_SHAPE);
}

/** Minute-to-minute noise on a base failure ratio: log-normal, ±25%. */
const FAILURE_NOISE = 0.25;
export const noisyRatio = (rand: () => number, p: number) =>
  Math.min(1, p * Math.exp(FAILURE_NOISE * normal(rand) - FAILURE_NOISE ** 2 / 2));

export interface Outage {
  start: number;
  end: number;
  /** Share of tasks that fail while it lasts, fleet-wide (on top of the base ratio). */
  failure: number;
}

/** Provider outages: about one a day and a half, 10–90 minutes, 15–50% of tasks failing. */
export function outageSchedule(rand: () => number, from: number, to: number, perDay = 1 / 1.5): Outage[] {
  const out: Outage[] = [];
  let t = from;
  for (;;) {
    t += (-Math.log(Math.max(rand(), 1e-12)) / perDay) * DAY;
    if (t >= to) return out;
    const minutes = 10 + Math.floor(rand() * 80);
    out.push({ start: t, end: t + minutes * MINUTE, failure: 0.15 + rand() * 0.35 });
  }
}

const outageAt = (outages: readonly Outage[], t: number): Outage | null =>
  outages.find((o) => t >= o.start && t < o.end) ?? null;

export type RegressionKind = 'failure' | 'latency' | 'cost';

export interface DeployTruth {
  id: number;
  at: number;
  bad: boolean;
  /** For a bad deploy: what regressed, and how: the failure ratio it steps to, or the latency/cost factor. */
  kind: RegressionKind | null;
  size: number | null;
}

export interface DeployPlanOptions {
  /** Mean hours between deploys (each gap uniform in [0.5, 1.5] of it). */
  everyHours: number;
  badShare: number;
  kinds: RegressionKind[];
  /** Failure ratio a bad failure deploy steps to; factor for latency and cost. */
  failureTo: number;
  factor: number;
}

export function deploySchedule(
  rand: () => number,
  from: number,
  to: number,
  o: DeployPlanOptions,
): DeployTruth[] {
  const out: DeployTruth[] = [];
  let t = from;
  for (let id = 1; ; id++) {
    t += o.everyHours * HOUR * (0.5 + rand());
    if (t >= to) return out;
    const at = Math.floor(t / MINUTE) * MINUTE;
    const bad = rand() < o.badShare;
    const kind = bad ? o.kinds[Math.floor(rand() * o.kinds.length)]! : null;
    out.push({ id, at, bad, kind, size: kind === null ? null : kind === 'failure' ? o.failureTo : o.factor });
  }
}

/** The shares of tasks bad for each SLI in a minute, before minute-level noise. */
export interface MinuteRates {
  failure: number;
  latencyFactor: number;
  costFactor: number;
}

/** What a scope's tasks look like at time t, given the outages and the deploys live by then. */
export function ratesAt(
  scope: ScopeProfile,
  t: number,
  outages: readonly Outage[],
  live: DeployTruth | null,
): MinuteRates {
  const outage = outageAt(outages, t);
  let failure = scope.baseFailure;
  let latencyFactor = 1;
  let costFactor = 1;
  if (live?.bad && live.kind === 'failure') failure = Math.max(failure, live.size!);
  if (live?.bad && live.kind === 'latency') latencyFactor = live.size!;
  if (live?.bad && live.kind === 'cost') costFactor = live.size!;
  if (outage) failure = failure + (1 - failure) * outage.failure;
  return { failure, latencyFactor, costFactor };
}
