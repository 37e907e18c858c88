import type { SloReport } from '../policy/gate/decision-schema.ts';
import { parseWindow, windowBounds } from '../policy/time/window.ts';

// The burn chart's data, shared by the Mermaid and the terminal chart: budget consumed at evenly
// spaced times from the window's start to now, on a numeric axis in days (hours or minutes while
// a calendar window is young), so every window draws its true shape.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/**
 * The unit of a calendar window's axis by its age: in days a first hour would read 0 → 0.04, so
 * minutes for the first two hours, hours for the first two days, days after that.
 */
const UNITS = [
  { unit: 'minute', ms: MINUTE, below: 2 * HOUR },
  { unit: 'hour', ms: HOUR, below: 2 * DAY },
  { unit: 'day', ms: DAY, below: Number.POSITIVE_INFINITY },
] as const;
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

interface BurnPoint {
  /** Position on the axis, in the axis unit. */
  x: number;
  /** Budget consumed (1 = exhausted); a step without data carries the last known value. */
  consumed: number;
  /** No data for this step: the value is carried forward, not measured. */
  gap: boolean;
}

interface BurnAxis {
  unit: (typeof UNITS)[number]['unit'];
  /** What x means, for the axis title: "days (0 = now)", "day of November (UTC)". */
  title: string;
  min: number;
  max: number;
  /** The window's start and now, for a terminal chart's end labels. */
  startLabel: string;
  endLabel: string;
}

export interface BurnSeries {
  axis: BurnAxis;
  /** The window's start (0 consumed, by definition) and one point per step: always two or more. */
  points: BurnPoint[];
  /** Steps of the telemetry series, and how many of them had no data. */
  steps: number;
  gaps: number;
}

/**
 * The nearest step a float adds up exactly: a multiple of a power of two within 0.1% of `step`,
 * under a pixel across the chart.
 * Mermaid 11.3 places the points of a numeric axis by adding the step to the minimum again and
 * again while the sum is at most the maximum; with 7/24 that sum overshoots 7 and the last point
 * ("now") is dropped. Sums of dyadic numbers are exact, so every point stays.
 */
export function exactStep(step: number): number {
  for (let k = 0; k <= 40; k++) {
    const q = Math.round(step * 2 ** k) / 2 ** k;
    if (q > 0 && Math.abs(q - step) <= step * 0.001) return q;
  }
  return step;
}

function axisFor(slo: SloReport, start: number, at: number, intervals: number): BurnAxis {
  const window = parseWindow(slo.window);
  const date = new Date(start);
  const month = MONTHS[date.getUTCMonth()]!;
  const startDay = `${month.slice(0, 3)} ${date.getUTCDate()}`;
  if (!window || window.kind === 'rolling') {
    const step = exactStep((at - start) / DAY / intervals);
    return {
      unit: 'day',
      title: 'days (0 = now)',
      min: -step * intervals,
      max: 0,
      startLabel: `${slo.window} ago`,
      endLabel: 'now',
    };
  }
  const { unit, ms } = UNITS.find((u) => at - start < u.below)!;
  const step = exactStep((at - start) / ms / intervals);
  // A month's day axis reads as dates: x = 1 is the 1st at 00:00, 20.5 the 20th at noon.
  const min = window.spec === 'month' && unit === 'day' ? 1 : 0;
  const since = window.spec === 'week' ? 'Monday 00:00 UTC' : `${month} 1, 00:00 UTC`;
  const title =
    unit !== 'day'
      ? `${unit}s since ${since}`
      : window.spec === 'month'
        ? `day of ${month} (UTC)`
        : `days since ${since}`;
  return {
    unit,
    title,
    min,
    max: min + step * intervals,
    startLabel: window.spec === 'week' ? `Mon ${startDay}` : startDay,
    endLabel: 'now',
  };
}

/** The chart's points for one SLO, or null when it has no series to draw. */
export function burnSeries(slo: SloReport): BurnSeries | null {
  const last = slo.series.at(-1);
  if (!last) return null;
  // The series' last point is the evaluation time; the window's start is where it began counting.
  const at = Date.parse(last.at);
  const window = parseWindow(slo.window);
  const start = window
    ? windowBounds(window, at).start
    : at - (slo.series.length * (at - Date.parse(slo.series[0]!.at))) / Math.max(1, slo.series.length - 1);
  const intervals = slo.series.length;
  const axis = axisFor(slo, start, at, intervals);
  const step = (axis.max - axis.min) / intervals;
  const points: BurnPoint[] = [{ x: axis.min, consumed: 0, gap: false }];
  let carried = 0;
  let gaps = 0;
  slo.series.forEach((p, i) => {
    const gap = p.consumed === null;
    if (gap) gaps++;
    else carried = p.consumed!;
    points.push({ x: axis.min + (i + 1) * step, consumed: carried, gap });
  });
  return { axis, points, steps: slo.series.length, gaps };
}
