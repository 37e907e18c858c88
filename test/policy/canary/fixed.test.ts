import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fixedBounds,
  lnEvidence,
  lnEvidenceFixed,
  lnOneSample,
  ratioBound,
} from '../../../src/policy/canary/stats.ts';
import { seededRandom } from '../../../src/scenarios/random.ts';

// The fixed-baseline test: the baseline's ratio bounded once, the deploy's tasks tested
// sequentially against that bound plus the line.

const binomial = (rand: () => number, n: number, p: number) => {
  let x = 0;
  for (let i = 0; i < n; i++) if (rand() < p) x++;
  return x;
};

describe("the baseline's bound", () => {
  it('brackets the observed ratio and widens as the level tightens (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, f) => {
        const c = { n, x: Math.floor(f * n) };
        const up = ratioBound(c, 0.01, 'upper');
        const lo = ratioBound(c, 0.01, 'lower');
        expect(up).toBeGreaterThanOrEqual(c.x / n - 1e-12);
        expect(lo).toBeLessThanOrEqual(c.x / n + 1e-12);
        expect(ratioBound(c, 0.001, 'upper')).toBeGreaterThanOrEqual(up - 1e-12);
      }),
      { numRuns: 300 },
    );
  });

  it('covers the true ratio at least 1 - alpha of the time', () => {
    const rand = seededRandom(7);
    for (const [n, p] of [
      [216, 0.01],
      [1800, 0.01],
      [1800, 0.05],
      [50, 0.2],
    ] as const) {
      let missed = 0;
      for (let k = 0; k < 2000; k++)
        if (ratioBound({ n, x: binomial(rand, n, p) }, 0.01, 'upper') < p) missed++;
      // The Chernoff bound is conservative: well under 1% at any n.
      expect(missed / 2000).toBeLessThan(0.01);
    }
  });
});

describe('the sequential test against the bound', () => {
  const table: Array<[string, { n: number; x: number }, { n: number; x: number }, number]> = [
    // baseline, post, ln E at the 1% line against the bound at alpha0 = 0.01
    ['1% → 40% at 5 a minute, 2 min', { n: 1800, x: 18 }, { n: 10, x: 4 }, 6],
    ['1% → 10% at 5 a minute, 30 min', { n: 1800, x: 18 }, { n: 150, x: 15 }, 3.5],
    ['no change, an hour', { n: 1800, x: 18 }, { n: 300, x: 3 }, Number.NEGATIVE_INFINITY],
  ];
  it.each(table)('%s: at least the tabled evidence', (_, base, post, atLeast) => {
    const ln = lnEvidenceFixed(base, post, 0.01, 'above', 0.01);
    expect(ln).toBeGreaterThanOrEqual(atLeast);
    if (atLeast === Number.NEGATIVE_INFINITY) expect(ln).toBeLessThan(0);
  });

  it('is stronger than the joint mixture where the baseline is large (the reason for it)', () => {
    for (const post of [
      { n: 14, x: 3 },
      { n: 295, x: 19 },
      { n: 352, x: 23 },
    ]) {
      const base = { n: 1500, x: 15 };
      expect(lnEvidenceFixed(base, post, 0.01, 'above', 0.01)).toBeGreaterThan(
        lnEvidence(base, post, 0.01, 'above') + 1,
      );
    }
  });

  it('keeps its level over every look: a deploy at the line is reverted under alpha of the time', () => {
    // At the null's edge (p1 = p0 + line exactly), 60 looks of 5 tasks each, 2,000 watches.
    const rand = seededRandom(21);
    const alpha0 = 0.01;
    const alpha1 = 0.04;
    let reverted = 0;
    for (let w = 0; w < 2000; w++) {
      const base = { n: 1800, x: binomial(rand, 1800, 0.01) };
      const post = { n: 0, x: 0 };
      for (let m = 0; m < 60; m++) {
        post.n += 5;
        post.x += binomial(rand, 5, 0.02);
        if (lnEvidenceFixed(base, post, 0.01, 'above', alpha0) >= Math.log(1 / alpha1)) {
          reverted++;
          break;
        }
      }
    }
    expect(reverted / 2000).toBeLessThan(alpha0 + alpha1);
  });

  it('its bounds bracket the observed difference and agree with the test (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 500 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n0, n1, f0, f1) => {
          const b = { n: n0, x: Math.floor(f0 * n0) };
          const q = { n: n1, x: Math.floor(f1 * n1) };
          const d = q.x / q.n - b.x / b.n;
          const { low, high } = fixedBounds(b, q, 0.01, 0.04);
          if (low !== null) {
            expect(low).toBeLessThanOrEqual(d + 1e-9);
            expect(lnEvidenceFixed(b, q, low - 1e-6, 'above', 0.01)).toBeGreaterThanOrEqual(
              Math.log(25) - 1e-6,
            );
          }
          if (high !== null) expect(high).toBeGreaterThanOrEqual(d - 1e-9);
          // The one-sample mixture is monotone in the line.
          expect(lnOneSample(q, 0.1, 'above')).toBeGreaterThanOrEqual(lnOneSample(q, 0.2, 'above') - 1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });
});
