import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forEachLine } from '../../src/telemetry/jsonl/lines.ts';
import { parseTime } from '../../src/telemetry/jsonl/record.ts';

async function collect(chunks: string[]): Promise<[string, number][]> {
  const out: [string, number][] = [];
  await forEachLine(Readable.from(chunks), (line, n) => out.push([line, n]));
  return out;
}

describe('forEachLine', () => {
  it('numbers lines the way an editor does, with CRLF and a missing final newline', async () => {
    expect(await collect(['a\r\nb', '\n\nc'])).toEqual([
      ['a', 1],
      ['b', 2],
      ['', 3],
      ['c', 4],
    ]);
  });

  it('gives the same lines however the stream is chunked (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.stringMatching(/^[a-z{}":,0-9 ]{0,12}$/), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (lines, cuts) => {
          const text = lines.map((l) => `${l}\n`).join('');
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let prev = 0;
          for (const p of [...points, text.length]) {
            if (p > prev) chunks.push(text.slice(prev, p));
            prev = p;
          }
          expect((await collect(chunks)).map(([l]) => l)).toEqual(lines);
        },
      ),
    );
  });
});

describe('parseTime', () => {
  it('agrees with Date.parse on every ISO shape it shortcuts, and on those it does not (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.boolean(), (ms, withMillis) => {
        const iso = new Date(ms).toISOString();
        const s = withMillis ? iso : `${iso.slice(0, 19)}Z`;
        expect(parseTime(s)).toBe(Date.parse(s));
      }),
    );
    for (const s of [
      '2026-11-01T12:00:00+02:00',
      '2026-11-01',
      '2026-11-01T12:00Z',
      'nonsense',
      '2026-11-01T12:00:61Z',
    ]) {
      expect(Number.isNaN(parseTime(s)) ? 'NaN' : parseTime(s)).toEqual(
        Number.isNaN(Date.parse(s)) ? 'NaN' : Date.parse(s),
      );
    }
  });
});
