import { parseDuration } from './duration.ts';
import { Spelled } from './duration-value.ts';

/**
 * An SLO window, parsed once by the loader: rolling (a fixed-length span ending now) or calendar
 * (this week / this month, UTC). Messages quote the spec: `String(w)` and JSON give the text.
 */
class RollingWindow extends Spelled {
  readonly kind = 'rolling' as const;
  readonly spec: string;
  readonly ms: number;
  constructor(spec: string, ms: number) {
    super(spec);
    this.spec = spec;
    this.ms = ms;
  }
}

class CalendarWindow extends Spelled {
  readonly kind = 'calendar' as const;
  readonly spec: 'week' | 'month';
  constructor(spec: 'week' | 'month') {
    super(spec);
    this.spec = spec;
  }
}

export type Window = RollingWindow | CalendarWindow;

export interface WindowBounds {
  /** Start of the events that count (ms since epoch). */
  start: number;
  /** Evaluation time (ms since epoch). */
  end: number;
  /** Length of the whole period the budget is for: the rolling span, or the full calendar week/month. */
  periodMs: number;
  /** Share of the period already elapsed: 1 for rolling windows. */
  elapsedFraction: number;
}

export function parseWindow(spec: string): Window | null {
  const s = spec.trim();
  if (s === 'week' || s === 'month') return new CalendarWindow(s);
  const ms = parseDuration(s);
  return ms === null ? null : new RollingWindow(s, ms);
}

/** Where the window stands at time `at`. Calendar weeks start Monday 00:00 UTC, months on the 1st. */
export function windowBounds(window: Window, at: number): WindowBounds {
  if (window.kind === 'rolling') {
    return { start: at - window.ms, end: at, periodMs: window.ms, elapsedFraction: 1 };
  }
  const d = new Date(at);
  let start: number;
  let next: number;
  if (window.spec === 'week') {
    const dayFromMonday = (d.getUTCDay() + 6) % 7;
    start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - dayFromMonday);
    next = start + 7 * 86_400_000;
  } else {
    start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  const periodMs = next - start;
  return { start, end: at, periodMs, elapsedFraction: Math.min(1, Math.max(0, (at - start) / periodMs)) };
}
