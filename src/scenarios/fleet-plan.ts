import { type BadBatch, drawBadBatches, drawCustomers } from './customers.ts';
import {
  DAY,
  type DeployPlanOptions,
  type DeployTruth,
  deploySchedule,
  MINUTE,
  type ScopeProfile,
} from './fleet-model.ts';
import { type Incident, incidentSchedule } from './incidents.ts';
import { seededRandom } from './random.ts';
import { drawMixShift, type MixShift, researchShare } from './task-kinds.ts';

// What `simulate --fleet` decides before the first task: deploys, provider incidents, customers'
// bad batches and the task mix's daily drift. truth.json is this plan.

export interface FleetOptions {
  /** ms since epoch, on a minute. */
  start: number;
  days: number;
  seed: number;
  scopes?: ScopeProfile[];
  deploys?: Partial<DeployPlanOptions>;
  /** Provider incidents a day (default one a day and a half). */
  outagesPerDay?: number;
  /** One customer's bad input, fleet-wide, this many times an hour (default 1). */
  badBatchesPerHour?: number;
  /** After each deploy, this share of tasks runs the new version (attrs.arm canary), the rest stable; omitted: no split. */
  canaryShare?: number;
  /** Whether clients retry failed tasks (default true). */
  retries?: boolean;
}

export const DEFAULT_DEPLOYS: DeployPlanOptions = {
  everyHours: 3,
  badShare: 0.2,
  kinds: ['failure', 'latency', 'cost'],
  failureTo: 0.1,
  factor: 2,
};

export interface FleetPlan {
  end: number;
  deploys: DeployTruth[];
  incidents: Incident[];
  batches: BadBatch[];
  /** One drift of the mix a day, each from where the last one left it. */
  shifts: MixShift[];
  /** Picks a customer by traffic from the given stream. */
  customerOf: (from: () => number) => number;
}

export function planFleet(o: FleetOptions): FleetPlan {
  const end = o.start + o.days * DAY;
  // Separate streams so the schedule does not change when the traffic model does.
  const plan = seededRandom(o.seed);
  const startMin = o.start / MINUTE;
  // From a day before the start: the first hours may begin in an incident.
  const incidents = incidentSchedule(plan, startMin - 1440, end / MINUTE, o.outagesPerDay ?? 1 / 1.5);
  const deploys = deploySchedule(plan, o.start, end, { ...DEFAULT_DEPLOYS, ...o.deploys });
  const customerOf = drawCustomers(plan);
  const minutes = Math.ceil(o.days * 1440);
  const batches = drawBadBatches(plan, () => customerOf(plan), startMin, minutes, o.badBatchesPerHour ?? 1);
  const shifts: MixShift[] = [];
  for (let d = 0; d < o.days; d++)
    shifts.push(
      drawMixShift(plan, startMin + d * 1440, Math.min(1440, minutes - d * 1440), shifts.at(-1)?.by),
    );
  return { end, deploys, incidents, batches, shifts, customerOf };
}

const iso = (t: number) => new Date(t).toISOString();

/** The plan as truth.json holds it: times as ISO strings, incidents' ramp in minutes. */
export function fleetTruth(o: FleetOptions, p: FleetPlan, scopes: ScopeProfile[]) {
  return {
    seed: o.seed,
    start: iso(o.start),
    end: iso(p.end),
    scopes,
    canary_share: o.canaryShare ?? null,
    deploys: p.deploys.map((d) => ({ ...d, at: iso(d.at) })),
    incidents: p.incidents.map((i) => ({
      start: iso(i.from * MINUTE),
      ramp_minutes: i.ramp,
      end: iso(i.to * MINUTE),
      reach: round(i.reach),
      level: round(i.level),
    })),
    bad_batches: p.batches.map((b) => ({
      customer: `c${b.customer}`,
      start: iso(Math.round(b.from)),
      end: iso(Math.round(b.to)),
    })),
    mix_shifts: p.shifts.map((s) => ({
      at: iso(s.at * MINUTE),
      research_from: round(researchShare(s, s.at)),
      research_to: round(researchShare(s, s.at + 60)),
    })),
  };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
