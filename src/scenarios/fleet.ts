import {
  arrivals,
  COST,
  DAY,
  type DeployPlanOptions,
  type DeployTruth,
  deploySchedule,
  FLEET_SCOPES,
  LATENCY,
  MINUTE,
  noisyRatio,
  type Outage,
  outageSchedule,
  ratesAt,
  type ScopeProfile,
  trafficShape,
} from './fleet-model.ts';
import { normal, seededRandom } from './random.ts';
import type { TaskLine } from './tasks.ts';

// `budget-gate simulate --fleet`: seeded agent traffic for a fleet, task by task, with the ground
// truth the quality report and the tests judge against (which deploys were bad, when outages ran).

export interface FleetOptions {
  /** ms since epoch, on a minute. */
  start: number;
  days: number;
  seed: number;
  scopes?: ScopeProfile[];
  deploys?: Partial<DeployPlanOptions>;
  outagesPerDay?: number;
}

interface FleetTruth {
  seed: number;
  start: string;
  end: string;
  scopes: ScopeProfile[];
  deploys: Array<Omit<DeployTruth, 'at'> & { at: string }>;
  outages: Array<Omit<Outage, 'start' | 'end'> & { start: string; end: string }>;
}

export const DEFAULT_DEPLOYS: DeployPlanOptions = {
  everyHours: 3,
  badShare: 0.2,
  kinds: ['failure', 'latency', 'cost'],
  failureTo: 0.1,
  factor: 2,
};

export interface Fleet {
  truth: FleetTruth;
  tasks: () => Generator<TaskLine>;
}

const iso = (t: number) => new Date(t).toISOString();

export function simulateFleet(o: FleetOptions): Fleet {
  const scopes = o.scopes ?? FLEET_SCOPES;
  const end = o.start + o.days * DAY;
  // Separate streams so the schedule does not change when the traffic model does.
  const plan = seededRandom(o.seed);
  const outages = outageSchedule(plan, o.start - DAY, end, o.outagesPerDay);
  const deploys = deploySchedule(plan, o.start, end, { ...DEFAULT_DEPLOYS, ...o.deploys });
  const truth: FleetTruth = {
    seed: o.seed,
    start: iso(o.start),
    end: iso(end),
    scopes,
    deploys: deploys.map((d) => ({ ...d, at: iso(d.at) })),
    outages: outages.map((x) => ({ ...x, start: iso(x.start), end: iso(x.end) })),
  };
  function* tasks(): Generator<TaskLine> {
    const rand = seededRandom(o.seed ^ 0x5eed);
    let live: DeployTruth | null = null;
    let next = 0;
    // The outages under way this minute, in schedule order (outageSchedule's are by start): the
    // rates look only at those, so many outages cost no more per minute than a few.
    let open: Outage[] = [];
    let nextOutage = 0;
    for (let m = o.start; m < end; m += MINUTE) {
      while (next < deploys.length && deploys[next]!.at <= m) live = deploys[next++]!;
      while (nextOutage < outages.length && outages[nextOutage]!.start <= m)
        open.push(outages[nextOutage++]!);
      if (open.length > 0) open = open.filter((x) => m < x.end);
      for (const scope of scopes) {
        const r = ratesAt(scope, m, open, live);
        const n = arrivals(rand, scope.perMinute * trafficShape(m));
        const p = noisyRatio(rand, r.failure);
        const at: number[] = [];
        for (let i = 0; i < n; i++) at.push(m + Math.floor(rand() * MINUTE));
        at.sort((a, b) => a - b);
        for (const t of at) {
          const latency = LATENCY.medianMs * r.latencyFactor * Math.exp(LATENCY.sigma * normal(rand));
          const cost = COST.medianUsd * r.costFactor * Math.exp(COST.sigma * normal(rand));
          yield {
            time: iso(t),
            ok: rand() >= p,
            latency_ms: Math.round(latency),
            cost_usd: Math.round(cost * 100_000) / 100_000,
            attrs: { tier: scope.tier, service: 'agents' },
          };
        }
      }
    }
  }
  return { truth, tasks };
}
