import type { BadBatch } from './customers.ts';
import { retryAfterMs } from './customers.ts';
import {
  arrivals,
  type DeployTruth,
  FLEET_SCOPES,
  MINUTE,
  noisyRatio,
  ratesAt,
  trafficShape,
} from './fleet-model.ts';
import { type FleetOptions, fleetTruth, planFleet } from './fleet-plan.ts';
import { type ArmRates, type Attempt, runAttempt } from './fleet-task.ts';
import type { Incident } from './incidents.ts';
import { seededRandom } from './random.ts';
import { researchShare } from './task-kinds.ts';

// `budget-gate simulate --fleet`: seeded agent traffic for a fleet, task by task, with the ground
// truth the tests judge against (which deploys were bad, when incidents and bad batches ran).

export { DEFAULT_DEPLOYS } from './fleet-plan.ts';

export interface FleetLine {
  time: string;
  ok: boolean;
  latency_ms: number;
  cost_usd: number;
  attrs: {
    tier: 'paid' | 'free';
    service: string;
    customer: string;
    kind: string;
    arm?: 'canary' | 'stable';
  };
}

export interface Fleet {
  truth: ReturnType<typeof fleetTruth>;
  tasks: () => Generator<FleetLine>;
}

const iso = (t: number) => new Date(t).toISOString();

/** Attempts queued for a later minute (retries), by scope. */
type Queued = Attempt & { scope: number };

export function simulateFleet(o: FleetOptions): Fleet {
  const scopes = o.scopes ?? FLEET_SCOPES;
  const plan = planFleet(o);
  const { deploys, end } = plan;
  function* tasks(): Generator<FleetLine> {
    const rand = seededRandom(o.seed ^ 0x5eed);
    let live: DeployTruth | null = null;
    let next = 0;
    // What is under way this minute, in schedule order (both schedules are by start): a minute
    // looks only at those, so a month of them costs no more per minute than a few.
    let incidents: Incident[] = [];
    let nextIncident = 0;
    let batches: BadBatch[] = [];
    let nextBatch = 0;
    let shift = 0;
    let pending: Queued[] = [];
    for (let m = o.start; m < end; m += MINUTE) {
      const minute = m / MINUTE;
      while (next < deploys.length && deploys[next]!.at <= m) live = deploys[next++]!;
      while (nextIncident < plan.incidents.length && plan.incidents[nextIncident]!.from <= minute)
        incidents.push(plan.incidents[nextIncident++]!);
      incidents = incidents.filter((i) => minute < i.to);
      while (nextBatch < plan.batches.length && plan.batches[nextBatch]!.from < m + MINUTE)
        batches.push(plan.batches[nextBatch++]!);
      batches = batches.filter((b) => b.to > m);
      while (shift + 1 < plan.shifts.length && plan.shifts[shift + 1]!.at <= minute) shift++;
      const research = researchShare(plan.shifts[shift]!, minute);
      // Without a split every task runs the live version; with one, only the canary arm does.
      const split = o.canaryShare !== undefined && live !== null;
      const arms = scopes.map((scope) => {
        const canary = rates(ratesAt(scope, m, [], live), rand);
        return { canary, stable: split ? rates(ratesAt(scope, m, [], null), rand) : canary };
      });
      const now: Queued[] = [];
      scopes.forEach((scope, s) => {
        const n = arrivals(rand, scope.perMinute * trafficShape(m));
        for (let i = 0; i < n; i++)
          now.push({
            t: m + Math.floor(rand() * MINUTE),
            customer: plan.customerOf(rand),
            retry: 0,
            scope: s,
          });
      });
      now.push(...pending.filter((a) => a.t < m + MINUTE));
      pending = pending.filter((a) => a.t >= m + MINUTE);
      now.sort((a, b) => a.t - b.t);
      for (let k = 0; k < now.length; k++) {
        const a = now[k]!;
        const arm = split ? (rand() < o.canaryShare! ? 'canary' : 'stable') : null;
        const r = arms[a.scope]![arm === 'stable' ? 'stable' : 'canary'];
        const { kind, ...task } = runAttempt(rand, a, research, r, incidents, batches);
        yield {
          time: iso(a.t),
          ...task,
          attrs: {
            tier: scopes[a.scope]!.tier,
            service: 'agents',
            customer: `c${a.customer}`,
            kind,
            ...(arm ? { arm } : {}),
          },
        };
        const after = task.ok || o.retries === false ? null : retryAfterMs(rand, a.retry);
        if (after === null || a.t + after >= end) continue;
        const again = { ...a, t: Math.round(a.t + after), retry: a.retry + 1 };
        if (again.t >= m + MINUTE) pending.push(again);
        else now.splice(insertAt(now, again.t, k + 1), 0, again);
      }
    }
  }
  return { truth: fleetTruth(o, plan, scopes), tasks };
}

const rates = (r: ReturnType<typeof ratesAt>, rand: () => number): ArmRates => ({
  ...r,
  failure: noisyRatio(rand, r.failure),
});

/** Where an attempt at time t goes among the sorted attempts from index `from` on. */
function insertAt(xs: readonly Attempt[], t: number, from: number): number {
  let k = from;
  while (k < xs.length && xs[k]!.t <= t) k++;
  return k;
}
