import { describe, expect, it } from 'vitest';
import {
  budgetEvents,
  burnRate,
  consumedOf,
  detectionTimeMs,
  projectExhaustion,
} from '../../../src/policy/gate/budget.ts';
import { countSample } from '../../../src/policy/gate/sample.ts';
import { parseDuration } from '../../../src/policy/time/duration.ts';
import { parseWindow, windowBounds } from '../../../src/policy/time/window.ts';

describe('the seed worked example', () => {
  it('95% over a rolling 30 days at 10,000 tasks/day allows 15,000 failures', () => {
    expect(budgetEvents(30 * 10_000, 0.95)).toBeCloseTo(15_000, 6);
  });

  it.each([
    [0.99, 0.9, 0.1],
    [0.999, 0.99, 0.1],
    [0.95, 0.9, 0.5],
  ])('a %s target has %s times the budget of a %s one', (tight, loose, ratio) => {
    expect(budgetEvents(1_000_000, tight) / budgetEvents(1_000_000, loose)).toBeCloseTo(ratio, 9);
  });

  it('consumed is bad over budget, burn rate is bad ratio over (1 - target)', () => {
    const s = countSample(300_000, 9_300);
    expect(consumedOf(s, 0.95)).toBeCloseTo(0.62, 9);
    expect(burnRate(countSample(10_000, 950), 0.95)).toBeCloseTo(1.9, 9);
    expect(consumedOf(countSample(0, 0), 0.95)).toBe(0);
  });
});

describe('detection times on the SRE workbook windows (99.9% target, 100% errors: burn 1000x)', () => {
  // Workbook, chapter 5, table 5-8: detection time and budget consumed when the alert fires.
  it.each([
    ['1h', 14.4, 0.864 * 60_000, 0.02],
    ['6h', 6, 2.16 * 60_000, 0.05],
    ['1d', 3, 4.32 * 60_000, 0.1],
    ['3d', 1, 4.32 * 60_000, 0.1],
  ])(
    'long window %s at %sx detects in the workbook time and spends the workbook share',
    (long, factor, ms, spent) => {
      const longMs = parseDuration(long)!;
      expect(detectionTimeMs(factor, longMs, 1000)).toBeCloseTo(ms, 3);
      // Budget spent when the alert fires, had the burn gone on for the whole long window.
      expect((factor * longMs) / parseDuration('30d')!).toBeCloseTo(spent, 9);
    },
  );

  it('a burn below the alert rate is never detected', () => {
    expect(detectionTimeMs(14.4, 3_600_000, 10)).toBeNull();
  });
});

describe('projected exhaustion', () => {
  const at = Date.parse('2026-11-10T00:00:00Z');
  const rolling = windowBounds(parseWindow('30d')!, at);
  const month = windowBounds(parseWindow('month')!, at);

  it('a rolling window at 2x with half the budget left runs out in a quarter of the window', () => {
    expect(projectExhaustion(0.5, 2, rolling, true)! - at).toBe(parseDuration('30d')! / 4);
  });
  it('a rolling window at or below 1x never runs out', () => {
    expect(projectExhaustion(0.9, 1, rolling, true)).toBeNull();
  });
  it('a calendar window that would run out after the month ends refills first', () => {
    expect(projectExhaustion(0.1, 1.01, month, false)).toBeNull();
    expect(projectExhaustion(0.5, 10, month, false)).not.toBeNull();
  });
  it('an exhausted budget is exhausted now', () => {
    expect(projectExhaustion(1.2, 0, rolling, true)).toBe(at);
  });
});
