// Durations as people write them in policies: 90s, 5m, 1h, 1h30m, 1d, 4w. Milliseconds inside.
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/** Parses `1h30m` into milliseconds; returns null when the text is not a positive duration. */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (s === '') return null;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = PART.exec(s); m !== null; m = PART.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = PART.lastIndex;
  }
  if (consumed !== s.length || total <= 0) return null;
  return total;
}

/** The shortest exact spelling of a duration: 86400000 → "1d", 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const units: Array<[string, number]> = [
    ['d', UNIT_MS.d!],
    ['h', UNIT_MS.h!],
    ['m', UNIT_MS.m!],
    ['s', UNIT_MS.s!],
  ];
  let rest = Math.round(ms);
  let out = '';
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${name}`;
      rest -= n * size;
    }
  }
  return out === '' ? `${rest}ms` : rest > 0 ? `${out}${rest}ms` : out;
}

/** A coarse, readable span for people: 3.2 days, 5 hours, 12 minutes. */
export function humanizeDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= 2 * UNIT_MS.d!) return `${(ms / UNIT_MS.d!).toFixed(1)} days`;
  if (abs >= 2 * UNIT_MS.h!) return `${(ms / UNIT_MS.h!).toFixed(1)} hours`;
  if (abs >= 2 * UNIT_MS.m!) return `${Math.round(ms / UNIT_MS.m!)} minutes`;
  return `${Math.round(ms / 1000)} seconds`;
}
