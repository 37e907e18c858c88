import type { TaskRecord } from '../telemetry/jsonl/record.ts';
import { BATCH_FAILURE, drawBadBatches, drawCustomers, retryAfterMs } from './customers.ts';
import { DAY, HOUR, MINUTE } from './fleet-model.ts';
import { drawIncident, type Incident, strength, throughIncidents } from './incidents.ts';
import { normal, seededRandom } from './random.ts';
import { drawMixShift, KINDS, pickKind, researchShare } from './task-kinds.ts';

// Agent traffic for one deploy, task by task, built on assumptions the canary judge does not make:
// bursty arrivals (a gamma-distributed rate every few minutes), customers of very different sizes
// (log-normal shares), a task mix of kinds that fail, take and cost differently and shifts over
// the hours, one customer's bad input failing a run of tasks with client retries, and provider
// incidents that ramp up over minutes, hit part of the traffic and time tasks out (a failure and
// a latency breach at once). The quality report judges these tasks through `canary --replay`'s
// own code (src/policy/canary/replay.ts), and the tests write them as JSONL for the CLI.

const BASELINE_MIN = 360;
/** 2026-11-02, in days since 1970-01-01. */
const EPOCH_DAY = Date.parse('2026-11-02T00:00:00Z') / 86_400_000;
const WATCH_MIN = 60;

const LATENCY_SIGMA = 0.45;
const COST_SIGMA = 0.35;

export type IncidentCase = 'none' | 'in-progress' | 'mid-watch';
export type Regression = { kind: 'failure'; to: number } | { kind: 'latency' | 'cost'; factor: number };

export interface TrafficSpec {
  /** Paid-tier tasks a minute at the deploy's hour (the judged scope; bursts move it); the free tier gets a fifth. */
  perMinute: number;
  incident: IncidentCase;
  regression: Regression | null;
  /** Share of tasks on the new version after the deploy, labelled attrs.arm; omitted: no split. */
  canaryShare?: number;
  /** One customer's bad input (a run of failures with retries) this many times an hour, fleet-wide. */
  badBatchesPerHour?: number;
  /** How long a bad batch lasts, in minutes (drawn evenly between the two; default 1 to 6). */
  batchMinutes?: [number, number];
}

/** When the deploy goes live in the generated stretch (ms since epoch, on a minute boundary). */
export interface Traffic {
  deployedAt: number;
  tasks: TaskRecord[];
  /** The incidents drawn, in minutes from the deploy (for reports: when a false revert's incident began). */
  incidents: Array<{ from: number; ramp: number; to: number; reach: number; level: number }>;
}

function gamma(rand: () => number, shape: number): number {
  if (shape < 1) return gamma(rand, shape + 1) * rand() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = normal(rand);
    const v = (1 + c * z) ** 3;
    if (v <= 0) continue;
    if (Math.log(Math.max(rand(), Number.EPSILON)) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

function poisson(rand: () => number, mean: number): number {
  if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(rand)));
  const l = Math.exp(-mean);
  let k = 0;
  let p = rand();
  while (p > l) {
    k++;
    p *= rand();
  }
  return k;
}

const erf = (x: number) => {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return x >= 0 ? y : -y;
};
/** The share of the mix over a latency threshold when every task is `slower` times slower. */
const overLatency = (thresholdMs: number, slower: number) =>
  KINDS.reduce(
    (a, k) =>
      a +
      k.share * 0.5 * (1 - erf(Math.log(thresholdMs / (slower * k.latencyMs)) / LATENCY_SIGMA / Math.SQRT2)),
    0,
  );

/**
 * How many more bad tasks than usual an incident makes of `tasks` tasks in minute `t` (minutes from
 * the deploy), on the success and the latency SLO together (threshold 10 s), at its strength then —
 * or at full strength with `full`. The quality report sums it over the minutes that could tell an
 * incident from the deploy: before the deploy (in progress), or before its onset (mid-watch).
 */
export function incidentHarm(
  i: Traffic['incidents'][number],
  t: number,
  tasks: number,
  full = false,
): number {
  const s = full ? 1 : strength(i, t);
  if (s <= 0) return 0;
  const failed = i.level * s;
  const slow = overLatency(10_000, 1 + 2 * s) - overLatency(10_000, 1);
  return tasks * i.reach * (failed + slow + failed / 2);
}

/** The hour of the day: ±40% around the mean, busiest mid-afternoon UTC. */
const dayShape = (m: number) => 1 + 0.4 * Math.sin((2 * Math.PI * (((m * MINUTE) % DAY) - 9 * HOUR)) / DAY);

/** One deploy's traffic: BASELINE_MIN minutes before it and WATCH_MIN after, plus a minute of slack. */
export function drawTraffic(spec: TrafficSpec, seed: number): Traffic {
  const rand = seededRandom(seed);
  // Somewhere in a week of November 2026 (whole days from the epoch: the day's shape is the same).
  const startMin = Math.floor(rand() * 7 * 1440) + EPOCH_DAY * 1440;
  const deployMin = startMin + BASELINE_MIN;
  const deployedAt = deployMin * MINUTE;
  const total = BASELINE_MIN + WATCH_MIN + 1;
  const customerOf = drawCustomers(rand);
  // The mix shifts somewhere in the stretch.
  const shift = drawMixShift(rand, startMin, total);
  const kindOf = (m: number) => pickKind(rand, researchShare(shift, m));
  const incidents: Incident[] = [];
  const draw = (from: number) => drawIncident(rand, from);
  if (spec.incident === 'in-progress') incidents.push(draw(deployMin - 1 - Math.floor(rand() * 45)));
  if (spec.incident === 'mid-watch') incidents.push(draw(deployMin + 1 + Math.floor(rand() * 55)));
  // Bad batches: a customer (by traffic) whose input fails its tasks for a few minutes.
  const batches = drawBadBatches(
    rand,
    customerOf,
    startMin,
    total,
    spec.badBatchesPerHour ?? 1,
    spec.batchMinutes,
  );
  const inBatch = (c: number, t: number) => batches.some((b) => b.customer === c && t >= b.from && t < b.to);

  const tasks: TaskRecord[] = [];
  const split = spec.canaryShare !== undefined;
  const attempt = (t: number, customer: number, tier: string, retry: number): void => {
    const m = Math.floor(t / MINUTE);
    const kind = kindOf(m);
    const post = t > deployedAt;
    const arm = split ? (rand() < spec.canaryShare! ? 'canary' : 'stable') : null;
    const isNew = post && (arm === null || arm === 'canary');
    const reg = isNew ? spec.regression : null;
    let fail = kind.fail;
    if (reg?.kind === 'failure') fail = 1 - (1 - fail) * ((1 - reg.to) / (1 - 0.01));
    let latency = kind.latencyMs * Math.exp(LATENCY_SIGMA * normal(rand));
    let cost = kind.costUsd * Math.exp(COST_SIGMA * normal(rand));
    if (reg?.kind === 'latency') latency *= reg.factor;
    if (reg?.kind === 'cost') cost *= reg.factor;
    let ok = rand() >= fail;
    ({ ok, latency } = throughIncidents(rand, incidents, m, { ok, latency }));
    if (inBatch(customer, t) && rand() < BATCH_FAILURE) ok = false;
    tasks.push({
      time: Math.round(t),
      ok,
      latency_ms: Math.round(latency),
      cost_usd: Math.round(cost * 1e5) / 1e5,
      attrs: { tier, customer: `c${customer}`, kind: kind.name, ...(arm ? { arm } : {}) },
    });
    const after = ok ? null : retryAfterMs(rand, retry);
    if (after !== null && t + after < (startMin + total) * MINUTE)
      attempt(t + after, customer, tier, retry + 1);
  };
  let burst = 1;
  for (let k = 0; k < total; k++) {
    const m = startMin + k;
    // A gamma rate every five minutes (bursty, mean 1) on the day's shape.
    if (k % 5 === 0) burst = gamma(rand, 1.5) / 1.5;
    const shape = dayShape(m) / dayShape(deployMin);
    for (const [tier, rate] of [
      ['paid', spec.perMinute],
      ['free', spec.perMinute / 5],
    ] as const) {
      const n = poisson(rand, rate * shape * burst);
      for (let j = 0; j < n; j++) attempt((m + rand()) * MINUTE, customerOf(), tier, 0);
    }
  }
  tasks.sort((a, b) => a.time - b.time);
  const incidentsSeen = incidents.map((i) => ({ ...i, from: i.from - deployMin, to: i.to - deployMin }));
  return { deployedAt, tasks, incidents: incidentsSeen };
}

/** The tasks as JSONL lines, in the telemetry contract's shape. */
export function toJsonl(tasks: readonly TaskRecord[]): string {
  return tasks
    .map((t) =>
      JSON.stringify({
        time: new Date(t.time).toISOString(),
        ok: t.ok,
        latency_ms: t.latency_ms,
        cost_usd: t.cost_usd,
        attrs: t.attrs,
      }),
    )
    .join('\n')
    .concat('\n');
}
