import { describe, expect, it } from 'vitest';
import { bucketRequest } from '../../src/bot/canary-buckets.ts';
import { collectingLog } from '../../src/bot/log.ts';
import { Watcher } from '../../src/bot/watcher.ts';
import { planCanaryRequest } from '../../src/policy/canary/assess.ts';
import type { TelemetrySource } from '../../src/policy/gate/ports.ts';
import type { TelemetryRequest, TelemetryResult } from '../../src/policy/gate/sample.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import type { TaskRecord } from '../../src/telemetry/jsonl/record.ts';
import { MemorySource } from '../../src/telemetry/memory.ts';
import { batches, planQueries } from '../../src/telemetry/prometheus/batch.ts';
import { DEFAULTS } from '../../src/telemetry/prometheus/options.ts';
import { MIN, newWatch, POLICY_TEXT, recordingReverter, scenarioTasks, T0, testClock } from './support.ts';

// How many metrics requests one tick makes as the number of watched deployments grows. The source
// counts its fetches and, for each, the HTTP requests the Prometheus source would send for it
// (its own planner and batcher: one instant query per batch of sub-queries), while answering from
// real task records so the watcher runs its normal course.

const records: TaskRecord[] = scenarioTasks(0.005, 0.005, { perMinute: 5 }).map((t) => ({
  time: t.time as number,
  ok: t.ok,
  latency_ms: t.latency_ms,
  cost_usd: t.cost_usd,
  attrs: t.attrs ?? {},
}));

class CountingSource implements TelemetrySource {
  readonly name = 'counting';
  fetches = 0;
  promRequests = 0;
  private readonly inner = new MemorySource('tasks', records);
  async fetch(request: TelemetryRequest): Promise<TelemetryResult> {
    this.fetches++;
    this.promRequests += batches(planQueries(request, this.name).subqueries, DEFAULTS.maxSubqueries).length;
    return this.inner.fetch(request);
  }
}

async function oneTick(watches: number, bucketed: boolean) {
  const store = new SqliteWatchStore(':memory:');
  // Every deployment at its own moment within the watched hour, as a busy fleet's would be.
  const spacing = (59 * MIN) / watches;
  for (let i = 0; i < watches; i++) await store.add(newWatch(1 + i, Math.round(T0 - i * spacing)), T0);
  const source = new CountingSource();
  const clock = testClock(T0 + MIN);
  const watcher = new Watcher({
    store,
    source,
    clock: clock.now,
    replica: 'r',
    revert: recordingReverter().revert,
    log: collectingLog(),
    bucketed,
  });
  const report = await watcher.tick();
  await store.close();
  return { evaluated: report.evaluated, fetches: source.fetches, prometheus: source.promRequests };
}

describe('metrics requests per tick', () => {
  it('stay flat from 1 to 1,000 watched deployments (10,000: npm run bench)', async () => {
    const rows: Record<number, Awaited<ReturnType<typeof oneTick>>> = {};
    for (const n of [1, 100, 1000]) rows[n] = await oneTick(n, true);
    expect(rows[1000]!.evaluated).toBe(1000);
    for (const n of [1, 100, 1000]) expect(rows[n]!.fetches).toBe(1);
    // Bucketed, the Prometheus source sends the same one request at 100 watches as at 1,000.
    expect(rows[100]!.prometheus).toBe(1);
    expect(rows[1000]!.prometheus).toBe(rows[100]!.prometheus);
    console.info(
      `metrics requests per tick (bucketed): ${[1, 100, 1000].map((n) => `${n} watch(es) → ${rows[n]!.fetches} fetch, ${rows[n]!.prometheus} Prometheus request(s)`).join('; ')}`,
    );
  });

  it('would grow with the watches without the buckets (what planCanaryRequest asks for as is)', async () => {
    const one = await oneTick(1, false);
    const many = await oneTick(1000, false);
    expect(one.fetches).toBe(1);
    expect(many.fetches).toBe(1);
    expect(one.prometheus).toBe(1);
    // Two ranges × two parts per watch, 400 sub-queries a request; PromQL ranges are whole seconds,
    // so deploys within the same second share their sub-queries.
    expect(many.prometheus).toBeGreaterThan(5);
    console.info(
      `unbucketed: 1 watch → ${one.prometheus} Prometheus request(s); 1,000 watches → ${many.prometheus}`,
    );
    // A 10,000-watch tick through the in-memory source's per-range tally is slow (about 50 s on a
    // loaded 2-core machine; the bucketed tick above takes 3 s): this test counts requests, not time.
  }, 180_000);
});

describe('bucketed canary request', () => {
  const policy = loadPolicy(POLICY_TEXT, 'p.yml').policy;
  const source = new MemorySource('tasks', records);

  it('answers every watch exactly as the direct request does when deploys sit on the grid', async () => {
    const watches = Array.from({ length: 40 }, (_, i) => ({
      id: `w${i}`,
      deployed_at: T0 - ((i * 7) % 55) * MIN,
    }));
    const at = T0 + 3 * MIN;
    const direct = await source.fetch(planCanaryRequest(policy, watches, at));
    const b = bucketRequest(planCanaryRequest(policy, watches, at), MIN);
    expect(b.buckets).toBeLessThanOrEqual(60 + 55 + 4);
    const answered = b.answer(await source.fetch(b.request))!;
    expect(answered.slos['tasks-success']!.ranges).toEqual(direct.slos['tasks-success']!.ranges);
  });

  it('places an off-grid deploy on the nearest grid line', () => {
    const at = T0 + 10 * MIN;
    const b = bucketRequest(planCanaryRequest(policy, [{ id: 'x', deployed_at: T0 + 20_000 }], at), MIN);
    const ranges = b.request.slos[0]!.ranges.filter((r) => r.key.startsWith('bucket:'));
    // The baseline starts an hour before the nearest grid line, the post-deploy span at it; every
    // bucket in between (the guards' spans and blocks) is on the grid too.
    expect(ranges[0]).toMatchObject({ key: 'bucket:0', from: T0 - 60 * MIN });
    expect(ranges.find((r) => r.from === T0)).toBeDefined();
    expect(ranges.at(-1)!.to).toBe(at);
    for (const r of ranges) expect([r.from % MIN, r.to % MIN]).toEqual([0, 0]);
  });

  it('gives up (null) on ratio-only answers, which cannot be summed', () => {
    const b = bucketRequest(planCanaryRequest(policy, [{ id: 'x', deployed_at: T0 }], T0 + MIN), MIN);
    const ratios = Object.fromEntries(
      b.request.slos[0]!.ranges.map((r) => [r.key, { events: null, bad: null, ratio: 0.01 }]),
    );
    expect(b.answer({ slos: { 'tasks-success': { ranges: ratios } } })).toBeNull();
  });
});
