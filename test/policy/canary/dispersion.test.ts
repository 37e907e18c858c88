import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dispersionOfSeries, judgeCounts } from '../../../src/policy/canary/judge.ts';
import { type Counts, dispersionOf, wilson } from '../../../src/policy/canary/stats.ts';
import { seededRandom } from '../../../src/scenarios/random.ts';

// The overdispersion estimate behind the evidence's discount, and the Wilson interval the quality
// report prints.

const binomial = (rand: () => number, n: number, p: number) => {
  let x = 0;
  for (let i = 0; i < n; i++) if (rand() < p) x++;
  return x;
};

/** Six hours of minutes: `n` tasks a minute at ratio `p(m)`, plus `burst(m)` bad tasks of one cluster. */
function minutes(seed: number, n: number, p: (m: number) => number, burst: (m: number) => number = () => 0) {
  const rand = seededRandom(seed);
  const out: Counts[] = [];
  for (let m = 0; m < 360; m++) {
    const b = burst(m);
    out.push({ n: n + b, x: binomial(rand, n, p(m)) + b });
  }
  return out;
}

describe('overdispersion from the baseline', () => {
  it('reads about 1 for independent failures, at any steady ratio and traffic', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 5, max: 40 }),
        fc.double({ min: 0.01, max: 0.3, noNaN: true }),
        (seed, n, p) => {
          const d = dispersionOf(
            minutes(seed, n, () => p),
            1,
            15,
            1,
          );
          expect(d.estimate).toBeGreaterThan(0.7);
          expect(d.estimate).toBeLessThan(1.35);
          expect(d.upper).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('is not fooled by slow change: the hour of the day and a long incident cancel', () => {
    // The ratio swings 1% → 6% over the hours, and a 40% incident holds for 90 minutes.
    const p = (m: number) => (m >= 200 && m < 290 ? 0.4 : 0.035 + 0.025 * Math.sin(m / 60));
    const d = dispersionOf(minutes(7, 20, p), 1, 15, 1);
    expect(d.estimate).toBeLessThan(1.5);
  });

  it("sees one cluster's runs of failures, and the judge discounts the evidence by it", () => {
    // A customer failing 6 tasks a minute for 3 minutes, every 40 minutes, on 1% at 10 a minute.
    const burst = (m: number) => (m % 40 < 3 ? 6 : 0);
    const series = minutes(11, 10, () => 0.01, burst);
    const d = dispersionOf(series, 1, 15, 1);
    expect(d.estimate).toBeGreaterThan(3);
    expect(d.upper).toBeGreaterThan(d.estimate);
    const look = {
      budgetRatio: 0.05,
      post: { n: 100, x: 8 },
      baseline: { n: 3600, x: 40 },
      recent: [],
      windowBudget: null,
      projectedTasks: null,
      confidence: 0.95,
      burnRate: 0.2,
      consumed: 0.01,
      minEvents: 10,
      final: false,
    };
    const plain = judgeCounts(look);
    const discounted = judgeCounts({ ...look, baselineSeries: series });
    expect(plain.dispersion).toBe(1);
    expect(discounted.dispersion).toBe(dispersionOfSeries(series).upper);
    expect(discounted.ln_evidence).toBeLessThan(plain.ln_evidence);
  });
});

describe('wilson', () => {
  it('brackets the observed share and stays within [0, 1]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, f) => {
        const k = Math.round(f * n);
        const w = wilson(k, n);
        expect(w.low).toBeGreaterThanOrEqual(0);
        expect(w.high).toBeLessThanOrEqual(1);
        expect(w.low).toBeLessThanOrEqual(k / n + 1e-12);
        expect(w.high).toBeGreaterThanOrEqual(k / n - 1e-12);
      }),
    );
    // 0 of 2,000: the upper end is 0.19%, the figure the quality report quotes for a clean cell.
    expect(wilson(0, 2000).high).toBeCloseTo(0.00192, 5);
  });
});
