import { clockOf, rotationOf, shiftAt } from './rotation.ts';
import type { OncallPolicy } from './schema.ts';
import { dayNumber, instantOf, wallClock } from './zone.ts';

// The on-call load of each shift: how many pages, how many in the night of the person paged
// (22:00-07:00 on their own clock, as the handoff lint counts night), and the mean time to
// acknowledge (MTTA) and to recover (MTTR). Pure: the pages and the instants are arguments.

export interface PageRecord {
  key: string;
  alert: string;
  severity: string;
  opened_at: number;
  /** A page went out (not a ticket, not a post to the channel only). */
  paged: boolean;
  acked_at: number | null;
  /** Recovered or resolved, whichever came first: the burn was over. */
  recovered_at: number | null;
}

export interface ShiftLoad {
  starts: number;
  ends: number;
  primary: string;
  pages: number;
  night: number;
  unacknowledged: number;
  /** Means over the pages that were acknowledged / recovered (ms); null when none was. */
  mtta: number | null;
  mttr: number | null;
}

const NIGHT = { from: 22 * 60, to: 7 * 60 } as const;

/** In the night of whoever was primary when it paged, on their own clock. */
function atNight(o: OncallPolicy, at: number, primary: string | null): boolean {
  const m = wallClock(at, clockOf(o, primary).zone).minutes;
  return m >= NIGHT.from || m < NIGHT.to;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

function summarise(
  o: OncallPolicy,
  pages: PageRecord[],
  starts: number,
  ends: number,
  primary: string,
): ShiftLoad {
  const mine = pages.filter((p) => p.paged && p.opened_at >= starts && p.opened_at < ends);
  return {
    starts,
    ends,
    primary,
    pages: mine.length,
    night: mine.filter((p) => atNight(o, p.opened_at, primary)).length,
    unacknowledged: mine.filter((p) => p.acked_at === null).length,
    mtta: mean(mine.filter((p) => p.acked_at !== null).map((p) => p.acked_at! - p.opened_at)),
    mttr: mean(mine.filter((p) => p.recovered_at !== null).map((p) => p.recovered_at! - p.opened_at)),
  };
}

/** One row per shift that overlaps [from, to) (a shift being the crew between two changes). */
export function loadByShift(o: OncallPolicy, pages: PageRecord[], from: number, to: number): ShiftLoad[] {
  const r = rotationOf(o);
  if (!r) return [summarise(o, pages, from, to, '(no rotation)')];
  const out: ShiftLoad[] = [];
  let t = from;
  for (let i = 0; t < to && i < 2000; i++) {
    const s = shiftAt(r, t);
    out.push(summarise(o, pages, Math.max(s.starts, from), Math.min(s.ends, to), s.primary));
    t = s.ends;
  }
  return out;
}

/** The whole of [from, to) as one row (the month). */
export function loadOver(o: OncallPolicy, pages: PageRecord[], from: number, to: number): ShiftLoad {
  return summarise(o, pages, from, to, '');
}

/** The first instant of the calendar month `at` falls in, on the rotation's clock. */
export function monthStart(o: OncallPolicy, at: number): number {
  const w = wallClock(at, o.timezone);
  return instantOf(dayNumber({ year: w.year, month: w.month, day: 1 }), 0, o.timezone);
}
