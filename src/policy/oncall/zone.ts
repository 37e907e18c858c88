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

/**
 * The instant the wall clock in `zone` shows `minutes` on day `day` (days since 1970-01-01). A time
 * skipped by a spring-forward change resolves to the instant just after the gap.
 */
export function instantOf(day: number, minutes: number, zone: string): number {
  const guess = day * 86_400_000 + minutes * 60_000;
  const first = guess - offsetAt(guess, zone);
  const second = guess - offsetAt(first, zone);
  return second === first ? first : Math.max(first, second);
}

export function formatWall(ms: number, zone: string): string {
  const c = wallClock(ms, zone);
  const pad = (n: number) => String(n).padStart(2, '0');
  const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  return `${days[c.weekday]} ${c.year}-${pad(c.month)}-${pad(c.day)} ${pad(Math.floor(c.minutes / 60))}:${pad(c.minutes % 60)} ${zone}`;
}
