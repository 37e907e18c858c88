import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/policy/time/duration.ts';
import { parseWindow, windowBounds } from '../../../src/policy/time/window.ts';

describe('durations', () => {
  it.each([
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['4w', 28 * 86_400_000],
    ['90s', 90_000],
  ])('%s is %d ms and formats back', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
  it.each(['', '5', 'm5', '1x', '-1h', '0m', '1h 30m'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe('windows', () => {
  it('a calendar week starts Monday 00:00 UTC', () => {
    const at = Date.parse('2026-11-25T15:00:00Z'); // a Wednesday
    const b = windowBounds(parseWindow('week')!, at);
    expect(new Date(b.start).toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(b.periodMs).toBe(7 * 86_400_000);
    expect(b.elapsedFraction).toBeCloseTo((2 * 24 + 15) / (7 * 24), 9);
  });
  it('a calendar month starts on the 1st and lasts its own length', () => {
    const b = windowBounds(parseWindow('month')!, Date.parse('2026-02-14T00:00:00Z'));
    expect(new Date(b.start).toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(b.periodMs).toBe(28 * 86_400_000);
    expect(b.elapsedFraction).toBeCloseTo(13 / 28, 9);
  });
  it('a Sunday belongs to the week that began the Monday before', () => {
    const b = windowBounds(parseWindow('week')!, Date.parse('2026-11-29T23:59:00Z'));
    expect(new Date(b.start).toISOString()).toBe('2026-11-23T00:00:00.000Z');
  });
  it('a rolling window ends now and is always fully elapsed', () => {
    const at = Date.parse('2026-11-25T00:00:00Z');
    const b = windowBounds(parseWindow('7d')!, at);
    expect(at - b.start).toBe(7 * 86_400_000);
    expect(b.elapsedFraction).toBe(1);
  });
});
