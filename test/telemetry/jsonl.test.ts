import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SloQuery } from '../../src/policy/gate/sample.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { TelemetryError } from '../../src/telemetry/errors.ts';
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
