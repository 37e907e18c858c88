import { describe, expect, it } from 'vitest';
import { type FleetLine, simulateFleet } from '../../src/scenarios/fleet.ts';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/tasks.ts';

// The fleet's agent traffic: customers and their bad batches with retries, ramping incidents with
// timeouts, the task mix's drift, and the canary split, as the JSONL and truth.json show them.

const FRIDAY = Date.parse('2026-11-06T00:00:00Z');
const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);
const share = (xs: boolean[]) => xs.filter(Boolean).length / xs.length;
const between = (ls: FleetLine[], from: number, to: number) =>
  ls.filter((l) => at(l.time) >= from && at(l.time) < to);

/** Of `ls`, the share followed by another task of the same customer within (0, 33 s] (a first retry's delay). */
function followedBySameCustomer(all: FleetLine[], ls: FleetLine[]): number {
  const byCustomer = new Map<string, number[]>();
  for (const l of all) {
    const ts = byCustomer.get(l.attrs.customer) ?? [];
    ts.push(at(l.time));
    byCustomer.set(l.attrs.customer, ts);
  }
  return share(
    ls.map((l) => {
      const t = at(l.time);
      return byCustomer.get(l.attrs.customer)!.some((u) => u > t && u <= t + 33_000);
    }),
  );
}

describe('fleet agent traffic', () => {
  const quiet = { start: FRIDAY, days: 2, seed: 21, outagesPerDay: 0, deploys: { badShare: 0 } };
  const lines = [...simulateFleet(quiet).tasks()];

  it('labels every task with one of about 40 customers of very different sizes', () => {
    const counts = new Map<string, number>();
    for (const l of lines) counts.set(l.attrs.customer, (counts.get(l.attrs.customer) ?? 0) + 1);
    expect(counts.size).toBeGreaterThanOrEqual(30);
    expect(counts.size).toBeLessThanOrEqual(40);
    const sizes = [...counts.values()].sort((a, b) => b - a);
    // Log-normal: the largest carries many times the median customer's traffic.
    expect(sizes[0]! / sizes[Math.floor(sizes.length / 2)]!).toBeGreaterThan(5);
  });

  it("fails most of a customer's tasks during its bad batch, about once an hour", () => {
    const fleet = simulateFleet(quiet);
    const batches = fleet.truth.bad_batches;
    expect(batches.length / 48).toBeGreaterThan(0.6);
    expect(batches.length / 48).toBeLessThan(1.5);
    const inBatch = lines.filter((l) =>
      batches.some(
        (b) => b.customer === l.attrs.customer && at(l.time) >= at(b.start) && at(l.time) < at(b.end),
      ),
    );
    expect(inBatch.length).toBeGreaterThan(100);
    expect(share(inBatch.map((l) => !l.ok))).toBeGreaterThan(0.75);
  });

  it('retries failed tasks from the same customer within seconds, unless retries are off', () => {
    const counts = new Map<string, number>();
    for (const l of lines) counts.set(l.attrs.customer, (counts.get(l.attrs.customer) ?? 0) + 1);
    // Small customers: another of their tasks within half a minute is rare unless it is a retry.
    const small = (all: FleetLine[]) =>
      all.filter((l) => counts.get(l.attrs.customer)! < lines.length * 0.01);
    const failed = small(lines).filter((l) => !l.ok);
    const fine = small(lines).filter((l) => l.ok);
    expect(failed.length).toBeGreaterThan(50);
    expect(followedBySameCustomer(lines, failed)).toBeGreaterThan(0.6);
    expect(followedBySameCustomer(lines, fine)).toBeLessThan(0.3);
    const plain = [...simulateFleet({ ...quiet, retries: false }).tasks()];
    expect(plain.length).toBeLessThan(lines.length);
    expect(
      followedBySameCustomer(
        plain,
        small(plain).filter((l) => !l.ok),
      ),
    ).toBeLessThan(0.3);
  });

  it('drifts the task mix each day as truth.json says, tasks labelled by kind', () => {
    const fleet = simulateFleet({ ...quiet, days: 4 });
    const all = [...fleet.tasks()];
    expect(new Set(all.map((l) => l.attrs.kind))).toEqual(new Set(['chat', 'tool', 'research']));
    const research = (ls: FleetLine[]) => share(ls.map((l) => l.attrs.kind === 'research'));
    const shifts = fleet.truth.mix_shifts;
    expect(shifts).toHaveLength(4);
    // The largest drift that has two hours on either side inside the run.
    const end = at(fleet.truth.end);
    const s = shifts
      .filter((x) => at(x.at) >= FRIDAY + 2 * 60 * MIN && at(x.at) + 3 * 60 * MIN <= end)
      .sort(
        (a, b) => Math.abs(b.research_to - b.research_from) - Math.abs(a.research_to - a.research_from),
      )[0]!;
    expect(Math.abs(s.research_to - s.research_from)).toBeGreaterThan(0.01);
    const before = research(between(all, at(s.at) - 120 * MIN, at(s.at)));
    const after = research(between(all, at(s.at) + 60 * MIN, at(s.at) + 180 * MIN));
    expect(Math.abs(before - s.research_from)).toBeLessThan(0.012);
    expect(Math.abs(after - s.research_to)).toBeLessThan(0.012);
    expect(Math.sign(after - before)).toBe(Math.sign(s.research_to - s.research_from));
  });

  it('ramps an incident up over its first minutes, fails part of the traffic and times some out', () => {
    const fleet = simulateFleet({ ...quiet, outagesPerDay: 8, badBatchesPerHour: 0 });
    const all = [...fleet.tasks()];
    const paid = all.filter((l) => l.attrs.tier === 'paid');
    const ramped = fleet.truth.incidents.filter(
      (i) => i.ramp_minutes >= 4 && at(i.start) >= FRIDAY && at(i.end) <= at(fleet.truth.end),
    );
    expect(ramped.length).toBeGreaterThan(2);
    const first = ramped.flatMap((i) => between(paid, at(i.start), at(i.start) + MIN));
    const full = ramped.flatMap((i) =>
      between(paid, at(i.start) + i.ramp_minutes * MIN, at(i.start) + (i.ramp_minutes + 8) * MIN),
    );
    const expectedFull = ramped.reduce((a, i) => a + i.reach * i.level, 0) / ramped.length;
    expect(share(full.map((l) => !l.ok))).toBeGreaterThan(0.6 * expectedFull);
    expect(share(first.map((l) => !l.ok))).toBeLessThan(0.5 * share(full.map((l) => !l.ok)));
    // Timeouts: a failure at the 60 s timeout, only inside an incident, about half its failures.
    const timeouts = all.filter((l) => l.latency_ms === 60_000);
    expect(timeouts.length).toBeGreaterThan(20);
    for (const l of timeouts) {
      expect(l.ok).toBe(false);
      expect(fleet.truth.incidents.some((i) => at(l.time) >= at(i.start) && at(l.time) < at(i.end))).toBe(
        true,
      );
    }
    const slowOk = (ls: FleetLine[]) => {
      const xs = ls
        .filter((l) => l.ok)
        .map((l) => l.latency_ms)
        .sort((a, b) => a - b);
      return xs[Math.floor(xs.length / 2)]!;
    };
    const calm = between(paid, FRIDAY, at(fleet.truth.end)).filter(
      (l) => !fleet.truth.incidents.some((i) => at(l.time) >= at(i.start) && at(l.time) < at(i.end)),
    );
    expect(slowOk(full) / slowOk(calm)).toBeGreaterThan(1.3);
  });

  it('labels arms only after the first deploy, at the canary share, and a bad deploy hits only the canary', () => {
    const fleet = simulateFleet({
      ...quiet,
      days: 1,
      badBatchesPerHour: 0,
      canaryShare: 0.25,
      deploys: { badShare: 1, kinds: ['failure'], failureTo: 0.4, everyHours: 6 },
    });
    const all = [...fleet.tasks()];
    const first = at(fleet.truth.deploys[0]!.at);
    expect(fleet.truth.canary_share).toBe(0.25);
    expect(between(all, FRIDAY, first).some((l) => l.attrs.arm !== undefined)).toBe(false);
    const after = all.filter((l) => at(l.time) >= first && l.attrs.tier === 'paid');
    expect(after.every((l) => l.attrs.arm === 'canary' || l.attrs.arm === 'stable')).toBe(true);
    const canary = after.filter((l) => l.attrs.arm === 'canary');
    const stable = after.filter((l) => l.attrs.arm === 'stable');
    expect(Math.abs(canary.length / after.length - 0.25)).toBeLessThan(0.02);
    // Retries of the canary's failures make the canary's own failure share a little over 40%.
    expect(share(canary.map((l) => !l.ok))).toBeGreaterThan(0.35);
    expect(share(stable.map((l) => !l.ok))).toBeLessThan(0.03);
  });

  it('draws the same traffic again from the same seed and options, and other traffic from another seed', () => {
    const o = { start: FRIDAY, days: 0.5, seed: 3, canaryShare: 0.3, outagesPerDay: 4 };
    const once = [...simulateFleet(o).tasks()];
    expect([...simulateFleet(o).tasks()]).toEqual(once);
    expect(simulateFleet(o).truth).toEqual(simulateFleet(o).truth);
    expect([...simulateFleet({ ...o, seed: 4 }).tasks()].slice(0, 50)).not.toEqual(once.slice(0, 50));
  });

  it('refuses a canary share outside (0, 1) and a batch rate over one a minute', async () => {
    const dir = tempDir('bg-fleet-');
    const share1 = await cli(['simulate', '--fleet', '--out', dir, '--canary-share', '1']);
    expect(share1.code).toBe(2);
    expect(share1.stderr).toContain('--canary-share 1: expected a share strictly between 0 and 1');
    const batches = await cli(['simulate', '--fleet', '--out', dir, '--bad-batches-per-hour', '61']);
    expect(batches.code).toBe(2);
    expect(batches.stderr).toContain('--bad-batches-per-hour 61: expected a rate from 0 to 60');
  });
});
