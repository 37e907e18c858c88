import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forEachLine, LineError } from '../../src/telemetry/jsonl/lines.ts';
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

describe('forEachLine on hostile input', () => {
  it('stops at the first line longer than the cap, having read no more than the cap of it', async () => {
    let pulled = 0;
    async function* endless() {
      yield Buffer.from('{"ok":true}\n');
      for (;;) {
        pulled++;
        yield Buffer.alloc(64 * 1024, 0x61);
      }
    }
    const err = await forEachLine(endless(), () => {}, 1 << 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LineError);
    expect((err as LineError).line).toBe(2);
    expect((err as LineError).message).toMatch(/longer than 1048576 bytes/);
    // 16 chunks make the cap; the 17th crosses it.
    expect(pulled).toBe(17);
  });

  it('names the line that is not UTF-8, even when its bytes straddle chunks', async () => {
    const chunks = [
      Buffer.from('{"a":1}\n{"b":"'),
      Buffer.from([0xc3]),
      Buffer.from([0x28, 0x22, 0x7d, 0x0a]),
    ];
    const err = await forEachLine(Readable.from(chunks), () => {}).catch((e: unknown) => e);
    expect((err as LineError).line).toBe(2);
    expect((err as LineError).message).toBe('not valid UTF-8');
  });

  it('reads a multi-byte character split across chunks', async () => {
    const bytes = Buffer.from('{"name":"Zoë"}\n');
    const out: string[] = [];
    await forEachLine(Readable.from([bytes.subarray(0, 12), bytes.subarray(12)]), (l) => out.push(l));
    expect(out).toEqual(['{"name":"Zoë"}']);
  });
});

describe('parseTime', () => {
  it('agrees with Date.parse on every time with an offset (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.constantFrom('ms', 'none', 'micro'),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (ms, precision, offsetMin) => {
          const iso = new Date(ms).toISOString();
          const base =
            precision === 'ms'
              ? iso.slice(0, 23)
              : precision === 'micro'
                ? `${iso.slice(0, 23)}999`
                : iso.slice(0, 19);
          expect(parseTime(`${base}Z`)).toBe(Date.parse(`${base.slice(0, 23)}Z`));
          // The same wall-clock digits with an offset name a different instant, as Date.parse says.
          const sign = offsetMin < 0 ? '-' : '+';
          const abs = Math.abs(offsetMin);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          expect(parseTime(`${base}${zone}`)).toBe(Date.parse(`${base.slice(0, 23)}${zone}`));
        },
      ),
    );
  });

  it.each([
    ['2026-11-01', 'no time of day'],
    ['2026-11-01T12:00Z', 'no seconds'],
    ['2026-11-01T12:00:00', "no offset: read in the runner's time zone"],
    ['2026-11-01 12:00:00Z', 'a space for the T'],
    ['2026-11-01T12:00:1e1Z', 'seconds written as 1e1'],
    ['2026-11-01T12:00: 1Z', 'a blank in the seconds'],
    ['2026-11-01T12:00:61Z', 'second 61'],
    ['2026-02-30T12:00:00Z', 'February 30th'],
    ['2025-02-29T12:00:00Z', 'February 29th in a common year'],
    ['2026-13-01T12:00:00Z', 'month 13'],
    ['2026-11-01T24:00:00Z', 'hour 24'],
    ['2026-11-01T12:00:00+2:00', 'a one-digit offset'],
    ['2026-11-01T12:00:00+24:00', 'an offset of a day'],
    ['2026-11-01T12:00:00.Z', 'a dot with no fraction'],
    ['nonsense', 'nonsense'],
  ])('refuses %s (%s)', (s) => {
    expect(parseTime(s)).toBeNaN();
  });

  it('accepts a leap day in a leap year', () => {
    expect(parseTime('2028-02-29T00:00:00Z')).toBe(Date.UTC(2028, 1, 29));
  });
});
