import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assessDeployment, planCanaryRequest } from '../../src/policy/canary/assess.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { DEMO_POLICY } from '../../src/scenarios/demo.ts';
import { DEFAULT_DEPLOYS, type FleetLine, simulateFleet } from '../../src/scenarios/fleet.ts';
import {
  costOver,
  DAY,
  deploySchedule,
  HOUR,
  latencyOver,
  outageSchedule,
} from '../../src/scenarios/fleet-model.ts';
import { kindFactors } from '../../src/scenarios/fleet-task.ts';
import { incidentSchedule } from '../../src/scenarios/incidents.ts';
import { seededRandom } from '../../src/scenarios/random.ts';
import { KINDS } from '../../src/scenarios/task-kinds.ts';
import { MemorySource } from '../../src/telemetry/memory.ts';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/tasks.ts';

// The fleet simulator's statistics: what it says it generates is what it generates.

const FRIDAY = Date.parse('2026-11-06T00:00:00Z');
const fleet = simulateFleet({ start: FRIDAY, days: 3, seed: 11 });
const truth = fleet.truth;
const lines = [...fleet.tasks()];
const at = (iso: string) => Date.parse(iso);
const outages = truth.incidents.map((o) => ({ start: at(o.start), end: at(o.end) }));
/** A bad batch's customer, from its start to three minutes after its end (its retries). */
const batches = truth.bad_batches.map((b) => ({
  customer: b.customer,
  start: at(b.start),
  end: at(b.end) + 3 * 60_000,
}));
const deploys = truth.deploys.map((d) => ({ ...d, at: at(d.at) }));
/** The deploy live at t (the simulator keeps a deploy live until the next one). */
const liveAt = (t: number) => deploys.filter((d) => d.at <= t).at(-1) ?? null;
const calm = (l: FleetLine) => {
  const t = at(l.time);
  return (
    !outages.some((o) => t >= o.start && t < o.end) &&
    !liveAt(t)?.bad &&
    !batches.some((b) => b.customer === l.attrs.customer && t >= b.start && t < b.end)
  );
};
/** The share of `ls` over a threshold expected from their kinds, when `over(f)` is the mix's share at factor f. */
const expectedOver = (ls: FleetLine[], over: (f: number) => number, key: 'latency' | 'cost', factor = 1) =>
  KINDS.reduce(
    (a, k) =>
      a + (ls.filter((l) => l.attrs.kind === k.name).length / ls.length) * over(factor * kindFactors(k)[key]),
    0,
  );
const share = (xs: boolean[]) => xs.filter(Boolean).length / xs.length;

describe('fleet simulator', () => {
  it('is reproducible from its seed, and another seed gives other traffic', () => {
    const again = simulateFleet({ start: FRIDAY, days: 3, seed: 11 });
    expect(again.truth).toEqual(truth);
    const first = again.tasks().next().value;
    expect(first).toEqual(lines[0]);
    const other = simulateFleet({ start: FRIDAY, days: 3, seed: 12 }).tasks().next().value;
    expect(other).not.toEqual(lines[0]);
  });

  it('has scopes of very different volume: the free one under a task a minute', () => {
    const minutes = 3 * 1440;
    const paid = lines.filter((l) => l.attrs.tier === 'paid').length / minutes;
    const free = lines.filter((l) => l.attrs.tier === 'free').length / minutes;
    // Friday to Sunday: one weekday (1.16) and two weekend days (0.6) of the weekly mean.
    const shape = (1.16 + 0.6 + 0.6) / 3;
    expect(paid / (30 * shape)).toBeGreaterThan(0.95);
    expect(paid / (30 * shape)).toBeLessThan(1.05);
    expect(free).toBeLessThan(1);
    expect(free / (0.6 * shape)).toBeGreaterThan(0.85);
    expect(free / (0.6 * shape)).toBeLessThan(1.15);
  });

  it('has a daily and a weekly shape, and bursty arrivals', () => {
    const paid = lines.filter((l) => l.attrs.tier === 'paid').map((l) => at(l.time));
    const count = (pred: (t: number) => boolean) => paid.filter(pred).length;
    const hour = (t: number) => new Date(t).getUTCHours();
    // Peak (15:00 UTC) against trough (03:00): 1.5 / 0.5.
    const peak = count((t) => hour(t) === 15);
    const trough = count((t) => hour(t) === 3);
    expect(peak / trough).toBeGreaterThan(2.5);
    expect(peak / trough).toBeLessThan(3.6);
    // Friday against the weekend days: 1.16 / 0.6.
    const friday = count((t) => t < FRIDAY + DAY);
    const weekend = count((t) => t >= FRIDAY + DAY) / 2;
    expect(friday / weekend).toBeGreaterThan(1.8);
    expect(friday / weekend).toBeLessThan(2.1);
    // Minute counts within one peak hour vary more than Poisson arrivals would (index of dispersion > 1.5).
    const from = FRIDAY + 15 * HOUR;
    const perMinute = Array.from({ length: 60 }, (_, m) =>
      count((t) => t >= from + m * 60_000 && t < from + (m + 1) * 60_000),
    );
    const mean = perMinute.reduce((a, b) => a + b, 0) / 60;
    const variance = perMinute.reduce((a, b) => a + (b - mean) ** 2, 0) / 59;
    expect(variance / mean).toBeGreaterThan(1.5);
  });

  it('fails, runs slow and costs at the base rates, long-tailed, when nothing is wrong', () => {
    const paid = lines.filter((l) => l.attrs.tier === 'paid' && calm(l));
    const free = lines.filter((l) => l.attrs.tier === 'free' && calm(l));
    expect(share(paid.map((l) => !l.ok))).toBeGreaterThan(0.008);
    expect(share(paid.map((l) => !l.ok))).toBeLessThan(0.012);
    expect(share(free.map((l) => !l.ok))).toBeGreaterThan(0.015);
    expect(share(free.map((l) => !l.ok))).toBeLessThan(0.045);
    const slow = share(paid.map((l) => l.latency_ms > 10_000));
    const slowExpected = expectedOver(paid, latencyOver, 'latency');
    expect(Math.abs(slow - slowExpected) / slowExpected).toBeLessThan(0.15);
    const dear = share(paid.map((l) => l.cost_usd > 0.04));
    const dearExpected = expectedOver(paid, costOver, 'cost');
    expect(Math.abs(dear - dearExpected) / dearExpected).toBeLessThan(0.15);
    // Long tails: p99 latency is more than three times the median.
    const sorted = paid.map((l) => l.latency_ms).sort((a, b) => a - b);
    expect(
      sorted[Math.floor(sorted.length * 0.99)]! / sorted[Math.floor(sorted.length / 2)]!,
    ).toBeGreaterThan(3);
  });

  it('fails across the fleet during a provider incident, whatever the deploy', () => {
    const o = outages.find((x) => x.end > FRIDAY && x.start < FRIDAY + 3 * DAY);
    expect(o).toBeDefined();
    const during = lines.filter((l) => at(l.time) >= o!.start && at(l.time) < o!.end);
    for (const tier of ['paid', 'free']) expect(during.some((l) => l.attrs.tier === tier)).toBe(true);
    expect(share(during.filter((l) => l.attrs.tier === 'paid').map((l) => !l.ok))).toBeGreaterThan(0.1);
  });

  it('ships deploys every few hours, the chosen share of them bad, and outages and incidents at their rate', () => {
    // A year of schedule (no traffic needed): shares within a few points of what was asked.
    const rand = seededRandom(5);
    const year = deploySchedule(rand, 0, 365 * DAY, { ...DEFAULT_DEPLOYS, badShare: 0.25 });
    expect(year.length / 365).toBeGreaterThan(7.5);
    expect(year.length / 365).toBeLessThan(8.5);
    expect(Math.abs(share(year.map((d) => d.bad)) - 0.25)).toBeLessThan(0.02);
    const bad = year.filter((d) => d.bad);
    for (const kind of ['failure', 'latency', 'cost'] as const) {
      expect(Math.abs(share(bad.map((d) => d.kind === kind)) - 1 / 3)).toBeLessThan(0.05);
    }
    const outs = outageSchedule(seededRandom(6), 0, 365 * DAY);
    expect(outs.length / 365).toBeGreaterThan(0.6);
    expect(outs.length / 365).toBeLessThan(0.74);
    const minutes = outs.map((o) => (o.end - o.start) / 60_000);
    expect(Math.min(...minutes)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...minutes)).toBeLessThan(90);
    // simulate --fleet's incidents: the same rate, 15–90 minutes, ramping over 1–8.
    const incidents = incidentSchedule(seededRandom(6), 0, 365 * 1440, 1 / 1.5);
    expect(incidents.length / 365).toBeGreaterThan(0.6);
    expect(incidents.length / 365).toBeLessThan(0.74);
    for (const i of incidents) {
      expect(i.to - i.from).toBeGreaterThanOrEqual(15);
      expect(i.to - i.from).toBeLessThan(90);
      expect(i.ramp).toBeGreaterThanOrEqual(1);
      expect(i.ramp).toBeLessThanOrEqual(8);
    }
  });

  it('a bad deploy regresses its SLI by the chosen size', () => {
    const f = simulateFleet({
      start: FRIDAY,
      days: 1,
      seed: 3,
      outagesPerDay: 0,
      deploys: { badShare: 1, kinds: ['latency'], factor: 2, everyHours: 6 },
    });
    const first = Date.parse(f.truth.deploys[0]!.at);
    const after = [...f.tasks()].filter((l) => l.attrs.tier === 'paid' && Date.parse(l.time) >= first);
    const slow = share(after.map((l) => l.latency_ms > 10_000));
    const expected = expectedOver(after, latencyOver, 'latency', 2);
    expect(Math.abs(slow - expected) / expected).toBeLessThan(0.1);
  });

  it('its JSONL, read back as telemetry, convicts its bad failure deploys under the example policy', async () => {
    const f = simulateFleet({
      start: FRIDAY,
      days: 1,
      seed: 9,
      outagesPerDay: 0,
      deploys: { badShare: 0.5, kinds: ['failure'], failureTo: 0.4, everyHours: 4 },
    });
    const records = [...f.tasks()].map((l) => ({ ...l, time: Date.parse(l.time) }));
    const source = new MemorySource('fleet', records);
    const policy = loadPolicy(readFileSync(DEMO_POLICY, 'utf8'), DEMO_POLICY).policy;
    const verdicts = [];
    // A bad deploy after a bad one changes nothing the judge can see: its baseline is as bad.
    const deploys = f.truth.deploys.filter((_, i) => i === 0 || !f.truth.deploys[i - 1]!.bad);
    for (const d of deploys) {
      const watch = { id: String(d.id), deployed_at: Date.parse(d.at) };
      const now = watch.deployed_at + 10 * 60_000;
      const a = assessDeployment(
        policy,
        watch,
        await source.fetch(planCanaryRequest(policy, [watch], now)),
        now,
      );
      verdicts.push({ bad: d.bad, breach: a.breach });
    }
    expect(verdicts.some((v) => v.bad)).toBe(true);
    expect(verdicts.some((v) => !v.bad)).toBe(true);
    for (const v of verdicts) expect(v.breach).toBe(v.bad);
  });

  it('`simulate --fleet` writes the telemetry and the ground truth', async () => {
    const dir = tempDir('bg-fleet-');
    const r = await cli(['simulate', '--fleet', '--days', '1', '--seed', '4', '--out', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tasks over paid \(30\/min\), free \(0\.6\/min\)/);
    const t = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8'));
    expect(t.seed).toBe(4);
    const first = JSON.parse(readFileSync(join(dir, 'telemetry.jsonl'), 'utf8').split('\n')[0]!);
    expect(Object.keys(first)).toEqual(['time', 'ok', 'latency_ms', 'cost_usd', 'attrs']);
    const bad = await cli(['simulate', '--fleet', '--out', dir, '--bad-share', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--bad-share 2: expected a share between 0 and 1');
  });
});
