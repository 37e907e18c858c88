import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pct } from '../../../src/policy/gate/explain.ts';
import { pct as reportPct } from '../../../src/report/format.ts';

// Small shares print with meaningful digits everywhere (CLI, Action summary, revert PR): the
// auto-revert line of the example policy is 1% of a 30-day budget, and a deploy burns fractions of it.

describe('pct', () => {
  it('prints whole percents from 10% up and two significant digits below', () => {
    expect(pct(0.25)).toBe('25%');
    expect(pct(0.5)).toBe('50%');
    expect(pct(1)).toBe('100%');
    expect(pct(0.0525)).toBe('5.3%');
    expect(pct(0.05)).toBe('5%');
    expect(pct(0.028)).toBe('2.8%');
    expect(pct(0.01)).toBe('1%');
    expect(pct(0.002)).toBe('0.2%');
    expect(pct(0.00123)).toBe('0.12%');
    expect(pct(0.0000123)).toBe('0.0012%');
    expect(pct(1e-9)).toBe('<0.001%');
    expect(pct(0)).toBe('0%');
    expect(pct(-0.004)).toBe('-0.4%');
  });

  it('never prints a non-zero share as 0%', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-12, max: 10, noNaN: true }), (x) => {
        expect(pct(x)).not.toBe('0%');
        expect(reportPct(x)).not.toBe('0%');
      }),
    );
  });

  it('the report helpers print a missing number as a dash', () => {
    expect(reportPct(null)).toBe('—');
    expect(reportPct(0.002)).toBe('0.2%');
  });
});
