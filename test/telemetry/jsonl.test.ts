import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SloQuery } from '../../src/policy/gate/sample.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { seededRandom } from '../../src/scenarios/random.ts';
import { TelemetryError } from '../../src/telemetry/errors.ts';
import type { TaskRecord } from '../../src/telemetry/jsonl/record.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { MemorySource } from '../../src/telemetry/memory.ts';
import { tempDir, writeTasks } from '../support/tasks.ts';

const policy = loadPolicy(
  `version: 1
slos:
  - { name: ok-paid, sli: { kind: success }, target: 0.95, window: 30d, scope: { tier: paid } }
  - { name: fast, sli: { kind: latency, threshold_ms: 10000 }, target: 0.9, window: 7d, scope: all }
  - { name: cheap, sli: { kind: cost, threshold_usd: 0.04 }, target: 0.9, window: 7d, scope: { tier: [paid, free] } }
`,
  'p.yml',
).policy;

const T0 = Date.parse('2026-11-01T00:00:00Z');
const query = (
  name: string,
  ranges: { key: string; from: number; to: number }[],
  quantiles = false,
): SloQuery => ({
  slo: policy.slos.find((s) => s.name === name)!,
  ranges,
  quantiles,
});

describe('JsonlSource', () => {
  const dir = tempDir();
  const tasks = [
    { time: T0 + 1000, ok: true, latency_ms: 500, cost_usd: 0.01, attrs: { tier: 'paid' } },
    {
      time: new Date(T0 + 2000).toISOString(),
      ok: false,
      latency_ms: 15_000,
      cost_usd: 0.05,
      attrs: { tier: 'paid' },
    },
    { time: T0 + 3000, ok: false, attrs: { tier: 'free' } },
    { time: T0 + 4000, ok: true, latency_ms: 10_000, cost_usd: 0.04, attrs: { tier: 'other' } },
    { time: T0, ok: false, latency_ms: 20_000, attrs: { tier: 'paid' } },
  ];

  it('counts events and bad per SLI kind, scope and half-open range', async () => {
    const path = writeTasks(dir, 'a.jsonl', tasks);
    const r = { key: 'window', from: T0, to: T0 + 4000 };
    const res = await new JsonlSource({ path }).fetch({
      at: T0 + 4000,
      slos: [query('ok-paid', [r]), query('fast', [r]), query('cheap', [r])],
    });
    // The task at exactly T0 is outside (T0, …]; the one at T0+4000 is inside.
    expect(res.slos['ok-paid']!.ranges.window).toEqual({ events: 2, bad: 1, ratio: 0.5 });
    // Latency: tasks without latency_ms do not count; 10,000 ms is good (<= threshold).
    expect(res.slos.fast!.ranges.window).toEqual({ events: 3, bad: 1, ratio: 1 / 3 });
    // Cost scope is tier paid or free: 0.01 good, 0.05 bad, the free task has no cost.
    expect(res.slos.cheap!.ranges.window).toEqual({ events: 2, bad: 1, ratio: 0.5 });
    expect(res.stats).toMatchObject({ lines: 5, records: 5, skipped_lines: 0 });
  });

  it('reads gzip the same as plain text', async () => {
    const plain = writeTasks(dir, 'b.jsonl', tasks);
    const gz = writeTasks(dir, 'b.jsonl.gz', tasks);
    const req = { at: T0 + 4000, slos: [query('fast', [{ key: 'window', from: 0, to: T0 + 4000 }])] };
    expect(await new JsonlSource({ path: gz }).fetch(req)).toEqual(
      await new JsonlSource({ path: plain }).fetch(req),
    );
  });

  it.each([
    ['{"time":1,"ok":true}\n{"time": 2, "ok": tru}\n', 2, 'not valid JSON'],
    ['{"time":1,"ok":true}\n\n{"time":3}\n', 3, 'missing `ok`'],
    ['{"time":"yesterday","ok":true}\n', 1, '`time`: expected an ISO-8601 time'],
    ['{"time":1,"ok":true,"latency_ms":"slow"}\n', 1, '`latency_ms`'],
    ['[1,2]\n', 1, 'expected a JSON object'],
  ])('names the line and the problem of a malformed line (%#)', async (text, line, what) => {
    const path = join(dir, 'bad.jsonl');
    writeFileSync(path, text);
    const err = await new JsonlSource({ path })
      .fetch({ at: 10, slos: [query('fast', [{ key: 'window', from: 0, to: 10 }])] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TelemetryError);
    expect((err as TelemetryError).kind).toBe('malformed');
    expect((err as Error).message).toContain(`${path}:${line}: `);
    expect((err as Error).message).toContain(what);
  });

  it('with skipBadLines counts the bad lines, quotes the first ones, and keeps the good ones', async () => {
    const path = join(dir, 'mixed.jsonl');
    writeFileSync(
      path,
      `{"time":${T0 + 1},"ok":false,"attrs":{"tier":"paid"}}\nnope\n{"time":${T0 + 2},"ok":true,"attrs":{"tier":"paid"}}\n{}\n`,
    );
    const res = await new JsonlSource({ path, skipBadLines: true }).fetch({
      at: T0 + 10,
      slos: [query('ok-paid', [{ key: 'window', from: T0, to: T0 + 10 }])],
    });
    expect(res.slos['ok-paid']!.ranges.window).toEqual({ events: 2, bad: 1, ratio: 0.5 });
    expect(res.stats).toMatchObject({ skipped_lines: 2, records: 2 });
    expect(res.warnings![0]).toMatch(
      /skipped 2 malformed lines .*mixed\.jsonl:2: not valid JSON.*mixed\.jsonl:4: missing `time`/,
    );
  });

  it('reports a missing file or a corrupt gzip as unreadable', async () => {
    const req = { at: 10, slos: [query('fast', [{ key: 'window', from: 0, to: 10 }])] };
    const missing = await new JsonlSource({ path: join(dir, 'nope.jsonl') })
      .fetch(req)
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ kind: 'unreadable', message: expect.stringContaining('no such file') });
    const corrupt = join(dir, 'corrupt.jsonl.gz');
    writeFileSync(corrupt, Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const bad = await new JsonlSource({ path: corrupt }).fetch(req).catch((e: unknown) => e);
    expect(bad).toMatchObject({ kind: 'unreadable' });
  });

  it('quantiles from the sketch are within 1% of the exact order statistics', async () => {
    const values = Array.from({ length: 20_000 }, (_, i) => 200 + ((i * 7919) % 20_000));
    const path = writeTasks(
      dir,
      'q.jsonl',
      values.map((v, i) => ({ time: T0 + i + 1, ok: true, latency_ms: v })),
    );
    const res = await new JsonlSource({ path }).fetch({
      at: T0 + values.length,
      slos: [query('fast', [{ key: 'window', from: T0, to: T0 + values.length }], true)],
    });
    const sorted = [...values].sort((a, b) => a - b);
    const exact = (q: number) => sorted[Math.ceil(q * sorted.length) - 1]!;
    const qs = res.slos.fast!.quantiles!;
    for (const [q, got] of [
      [0.5, qs.p50],
      [0.95, qs.p95],
      [0.99, qs.p99],
    ] as const) {
      expect(Math.abs(got - exact(q)) / exact(q)).toBeLessThan(0.01);
    }
  });

  it('counts exactly what a brute-force filter counts, for any records and ranges (property)', async () => {
    const record = fc.record({
      time: fc.integer({ min: 0, max: 1000 }),
      ok: fc.boolean(),
      latency_ms: fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
      tier: fc.constantFrom('paid', 'free', 'other'),
    });
    const range = fc.tuple(fc.integer({ min: -10, max: 1000 }), fc.integer({ min: 0, max: 1010 }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { maxLength: 60 }),
        fc.array(range, { minLength: 1, maxLength: 5 }),
        async (recs, rs) => {
          const records = recs.map((r) => ({
            time: r.time,
            ok: r.ok,
            latency_ms: r.latency_ms,
            cost_usd: undefined,
            attrs: { tier: r.tier },
          }));
          const ranges = rs.map(([a, b], i) => ({ key: `r${i}`, from: Math.min(a, b), to: Math.max(a, b) }));
          const res = await new MemorySource('m', records).fetch({
            at: 1000,
            slos: [query('ok-paid', ranges), query('fast', ranges)],
          });
          for (const r of ranges) {
            const inRange = records.filter((x) => x.time > r.from && x.time <= r.to);
            const paid = inRange.filter((x) => x.attrs.tier === 'paid');
            expect(res.slos['ok-paid']!.ranges[r.key]).toMatchObject({
              events: paid.length,
              bad: paid.filter((x) => !x.ok).length,
            });
            const timed = inRange.filter((x) => x.latency_ms !== undefined);
            expect(res.slos.fast!.ranges[r.key]).toMatchObject({
              events: timed.length,
              bad: timed.filter((x) => x.latency_ms! > 10_000).length,
            });
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the cluster bound (auto_revert.cluster_by)', () => {
  const cell = 180_000;
  const run = async (tasks: Array<{ time: number; ok: boolean; attrs: Record<string, string> }>) =>
    (
      await new MemorySource('t', tasks as TaskRecord[]).fetch({
        at: T0 + 10 * 3_600_000,
        slos: [
          {
            ...query('ok-paid', [{ key: 'all', from: T0 - 1, to: T0 + 10 * 3_600_000 }]),
            cluster: { by: 'customer', cellMs: cell },
          },
        ],
      })
    ).slos['ok-paid']!.ranges.all!;

  it("counts a customer's cell up to its first failure: a run of failures and retries weighs one", async () => {
    const at = (k: number) => T0 + 1000 + k * 2000;
    const tasks = [
      ...Array.from({ length: 10 }, (_, k) => ({
        time: at(k),
        ok: true,
        attrs: { tier: 'paid', customer: 'a' },
      })),
      // c's bad input: 30 failures and retries in a minute, a success among them, then good again.
      ...Array.from({ length: 30 }, (_, k) => ({
        time: at(k),
        ok: k === 20,
        attrs: { tier: 'paid', customer: 'c' },
      })),
      { time: T0 + cell + 1000, ok: true, attrs: { tier: 'paid', customer: 'c' } },
    ];
    expect(await run(tasks)).toMatchObject({ events: 10 + 1 + 1, bad: 1 });
  });

  it('skips the cells after a second failing cell in a row, one, two, four...: a lasting bad input weighs little', async () => {
    // c fails every task for 7 cells in a row: counted in cells 0 and 1, skips 2, counted in 3,
    // skips 4 and 5, counted in 6.
    const tasks = Array.from({ length: 7 * 6 }, (_, k) => ({
      time: T0 + 1000 + k * (cell / 6),
      ok: false,
      attrs: { tier: 'paid', customer: 'c' },
    }));
    expect(await run(tasks)).toMatchObject({ bad: 4, events: 4 });
  });

  it('reads a regression that fails every customer at 10% as 10%, however big its customers (stopped counts are unbiased)', async () => {
    const rand = seededRandom(5);
    const tasks: Array<{ time: number; ok: boolean; attrs: Record<string, string> }> = [];
    // Ten hours; one customer sends half the traffic (12 tasks a cell), nine share the rest.
    for (let t = 0; t < 10 * 3_600_000; t += 7_500) {
      const customer = rand() < 0.5 ? 'big' : `small${Math.floor(rand() * 9)}`;
      tasks.push({ time: T0 + t + 1, ok: rand() >= 0.1, attrs: { tier: 'paid', customer } });
    }
    const got = await run(tasks);
    const ratio = got.bad! / got.events!;
    expect(ratio).toBeGreaterThan(0.09);
    expect(ratio).toBeLessThan(0.11);
    // Dropping only the repeated failures (the bound before) reads it lower: the big customer's
    // second failure in a cell is gone but its good tasks stay.
    const plainBad = tasks.filter((t) => !t.ok).length;
    expect(plainBad / tasks.length).toBeGreaterThan(0.095);
  });
});
