// Wall-clock arithmetic in an IANA zone with nothing but Intl: what the clock on the wall says at an
// instant, and which instant a wall-clock time on a date is. Shifts and business hours are defined
// on the wall clock, so a rotation keeps handing off at 09:00 across daylight-saving changes.

export interface WallClock {
  year: number;
  month: number;
  day: number;
  /** Minutes after local midnight. */
  minutes: number;
  /** 0 = Monday … 6 = Sunday. */
  weekday: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(zone, f);
  }
  return f;
}

function parts(ms: number, zone: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of formatFor(zone).formatToParts(ms)) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

export function wallClock(ms: number, zone: string): WallClock {
  const p = parts(ms, zone);
  const dayNumber = Date.UTC(p.year!, p.month! - 1, p.day!) / 86_400_000;
  return {
    year: p.year!,
    month: p.month!,
    day: p.day!,
    minutes: p.hour! * 60 + p.minute!,
    // 1970-01-01 was a Thursday (3 when Monday is 0).
    weekday: (((dayNumber + 3) % 7) + 7) % 7,
  };
}

/** Milliseconds the zone is ahead of UTC at an instant. */
function offsetAt(ms: number, zone: string): number {
  const p = parts(ms, zone);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** Days since 1970-01-01 of a calendar date (the zone plays no part). */
export const dayNumber = (c: { year: number; month: number; day: number }): number =>
  Date.UTC(c.year, c.month - 1, c.day) / 86_400_000;

/** The date `n` days after 1970-01-01. */
export function dateOfDay(n: number): { year: number; month: number; day: number } {
  const d = new Date(n * 86_400_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** What a wall-clock time on a date is in a zone: one instant, none (skipped forward), or two. */
type WallTimeKind = 'normal' | 'skipped' | 'repeated';

export interface ResolvedWallTime {
  /** The instant it means: the first occurrence when repeated, the first instant after the gap when skipped. */
  at: number;
  kind: WallTimeKind;
}

const resolved = new Map<string, ResolvedWallTime>();

/** Local time (as if UTC) the wall clock shows at an instant, in ms. */
const localOf = (ms: number, zone: string) => ms + offsetAt(ms, zone);

/**
 * The instant the wall clock in `zone` shows `minutes` on day `day` (days since 1970-01-01). A time
 * a spring-forward change skips happens at the first instant after the gap (02:30 on the night
 * Berlin jumps from 02:00 to 03:00 is 03:00); a time an autumn change repeats happens at its first
 * occurrence. Either way every wall-clock time names exactly one instant, and later times on the
 * same date never name earlier instants.
 */
export function resolveWallTime(day: number, minutes: number, zone: string): ResolvedWallTime {
  const key = `${zone}|${day}|${minutes}`;
  const hit = resolved.get(key);
  if (hit) return hit;
  const wall = day * 86_400_000 + minutes * 60_000;
  // Every offset the zone had within a day of the time: the instant is wall minus one of them.
  const offsets = new Set([
    offsetAt(wall - 86_400_000, zone),
    offsetAt(wall, zone),
    offsetAt(wall + 86_400_000, zone),
  ]);
  const exact = [...offsets].map((o) => wall - o).filter((t) => localOf(t, zone) === wall);
  let out: ResolvedWallTime;
  if (exact.length > 0) {
    const unique = [...new Set(exact)].sort((a, b) => a - b);
    out = { at: unique[0]!, kind: unique.length > 1 ? 'repeated' : 'normal' };
  } else {
    // Skipped: the first instant whose wall clock is past the time is the end of the gap.
    let lo = wall - Math.max(...offsets);
    let hi = wall - Math.min(...offsets);
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (localOf(mid, zone) >= wall) hi = mid;
      else lo = mid;
    }
    out = { at: hi, kind: 'skipped' };
  }
  if (resolved.size > 100_000) resolved.clear();
  resolved.set(key, out);
  return out;
}

export function instantOf(day: number, minutes: number, zone: string): number {
  return resolveWallTime(day, minutes, zone).at;
}

export function formatWall(ms: number, zone: string): string {
  const c = wallClock(ms, zone);
  const pad = (n: number) => String(n).padStart(2, '0');
  const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  return `${days[c.weekday]} ${c.year}-${pad(c.month)}-${pad(c.day)} ${pad(Math.floor(c.minutes / 60))}:${pad(c.minutes % 60)} ${zone}`;
}
