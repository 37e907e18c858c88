import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SloReport } from '../../src/policy/gate/decision-schema.ts';
import { burnSeries, exactStep } from '../../src/report/burn-series.ts';
import { textChart } from '../../src/report/text-chart.ts';
import { CASES, caseDecision } from './chart-cases.ts';

/** The x positions Mermaid 11.3 gives a line of `n` points on a numeric axis (its own loop). */
function mermaid113Positions(min: number, max: number, n: number): number[] {
  const step = (max - min) / (n - 1);
  const xs: number[] = [];
  for (let i = min; i <= max; i += step) xs.push(i);
  return xs;
}

const slo = (c: string) => caseDecision(CASES.find((k) => k.name === c)!).slos[0]!;

describe('burn series', () => {
  it('every axis keeps every point in Mermaid 11.3, whose placement loop drops the last one on 7/24', () => {
    expect(mermaid113Positions(-7, 0, 25)).toHaveLength(24); // the bug the exact step avoids
    fc.assert(
      fc.property(
        fc.double({ min: 1e-3, max: 400, noNaN: true }),
        fc.integer({ min: 1, max: 120 }),
        fc.constantFrom(0, 1),
        (span, intervals, min) => {
          const step = exactStep(span / intervals);
          expect(Math.abs(step - span / intervals)).toBeLessThanOrEqual((span / intervals) * 0.001);
          const max = min + step * intervals;
          expect(mermaid113Positions(min, max, intervals + 1)).toHaveLength(intervals + 1);
          expect(mermaid113Positions(-step * intervals, 0, intervals + 1)).toHaveLength(intervals + 1);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('starts at the window start with nothing consumed, so one step still draws a line', () => {
    const s = burnSeries(slo('one-point'))!;
    expect(s.points).toHaveLength(2);
    expect(s.points[0]).toEqual({ x: -7, consumed: 0, gap: false });
    expect(s.points[1]!.x).toBe(0);
  });

  it('a step without data holds the last value and says so; it is never drawn as 0', () => {
    const s = burnSeries(slo('gaps'))!;
    expect(s.gaps).toBe(4);
    for (const g of [6, 7, 8, 15]) {
      expect(s.points[g + 1]!.gap).toBe(true);
      expect(s.points[g + 1]!.consumed).toBe(s.points[g]!.consumed);
      expect(s.points[g + 1]!.consumed).toBeGreaterThan(0);
    }
  });

  it('axes: days to now for rolling windows, dates for months, minutes and hours while a window is young', () => {
    const axis = (c: string) => burnSeries(slo(c))!.axis;
    expect(axis('rolling-30d')).toMatchObject({ unit: 'day', min: -30, max: 0, title: 'days (0 = now)' });
    expect(axis('week-first-hour')).toMatchObject({
      unit: 'minute',
      min: 0,
      title: 'minutes since Monday 00:00 UTC',
    });
    expect(axis('week-first-hour').max).toBeCloseTo(40, 1);
    expect(axis('month-first-day')).toMatchObject({
      unit: 'hour',
      title: 'hours since December 1, 00:00 UTC',
    });
    expect(axis('month-first-day').max).toBeCloseTo(13, 1);
    expect(axis('month-late')).toMatchObject({
      unit: 'day',
      min: 1,
      max: 28.75,
      title: 'day of November (UTC)',
    });
  });

  it('no series, no chart', () => {
    expect(burnSeries({ ...slo('rolling-7d'), series: [] } as SloReport)).toBeNull();
  });

  it('the terminal chart: both pause lines, gaps marked under the axis, the window named at its ends', () => {
    const lines = textChart(slo('gaps'), 0.5, { hardLine: 1 });
    expect(lines[0]).toMatch(/^ {3}100% ┤━+.*━ hard-pause line$/);
    expect(lines[4]).toMatch(/^ {4}50% ┤.*┄ soft-pause line$/);
    expect(lines[8]).toBe(
      `     0% └${'─'.repeat(7)}???${'─'.repeat(6)}?${'─'.repeat(8)}  ? no data: last value held`,
    );
    expect(lines[9]!.trim()).toMatch(/^28d ago +now$/);
    const week = textChart(slo('week-late'), 0.5);
    expect(week.at(-1)!.trim()).toMatch(/^Mon Nov 16 +now$/);
  });
});
