import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assessDeployment,
  baselineKey,
  planCanaryRequest,
  postKey,
} from '../../../src/policy/canary/assess.ts';
import { judgeCounts, TIMING_AFTER_LN, TIMING_LN } from '../../../src/policy/canary/judge.ts';
import { differenceBounds, lnEvidence } from '../../../src/policy/canary/stats.ts';
import { timeChange } from '../../../src/policy/canary/timing.ts';
import { countSample, RANGE_WINDOW, type TelemetryResult } from '../../../src/policy/gate/sample.ts';
import { AT, BASE_POLICY, policy } from '../fixtures.ts';

// refunds-success: 95% over 30d; 300,000 tasks in the window → 15,000 bad tasks of budget;
// the auto-revert line is 20% of that: 3,000 bad tasks beyond the baseline within 60 minutes.
const p = policy();
const deployed = AT - 20 * 60_000;
const watch = { id: '42', deployed_at: deployed };
const result = (post: [number, number], baseline: [number, number]): TelemetryResult => ({
  slos: {
    'refunds-success': {
      ranges: {
        [RANGE_WINDOW]: countSample(300_000, 4_000),
        [postKey('42')]: countSample(...post),
        [baselineKey('42')]: countSample(...baseline),
      },
    },
  },
});

describe('auto-revert attribution', () => {
  it('a deployment that burns 25% of the budget in 20 minutes is reverted, and says why with numbers', () => {
    const a = assessDeployment(p, watch, result([10_000, 3_850], [30_000, 300]), AT);
    expect(a.breach).toBe(true);
    expect(a.expired).toBe(false);
    // 3,850 bad minus 1% baseline of 10,000 = 3,750 excess; 3,750 / 15,000 = 25%.
    expect(a.worst!.attributable_consumed).toBeCloseTo(0.25, 9);
    // The default rate line is the fast-burn page's 14.4x: the share rule convicts it.
    expect(a.worst!.rules).toEqual(['consumed']);
    expect(a.worst!.burn_low!).toBeGreaterThan(6.8);
    expect(a.worst!.burn_low!).toBeLessThan(7.5);
    expect(a.worst!.message).toContain(
      'at 99% confidence this deploy burns at least 6.9x beyond its baseline',
    );
    expect(a.worst!.message).toContain(
      'bad ratio 39% after the deploy (3850 of 10000 tasks in 20 min) vs 1% before it',
    );
    expect(a.worst!.message).toContain('burned 25% of the 30d budget beyond its baseline in 20 min');
    // The revert says it could not time the change (a plain request has no minutes around the deploy).
    expect(a.worst!.message).toContain(
      'the minutes around the deploy were not at hand to time the change (no timing guard)',
    );
  });

  it('a small, confidently measured regression under the rate line is left alone', () => {
    // 1% → 1.5%: a 0.1x attributable burn, under the default 1x line.
    const a = assessDeployment(p, watch, result([10_000, 150], [30_000, 300]), AT);
    expect(a.breach).toBe(false);
    expect(a.worst!.status).toBe('watching');
    expect(a.worst!.burn_high!).toBeLessThan(1);
  });

  it('too few tasks stays watching, however bad they look', () => {
    const a = assessDeployment(p, watch, result([4, 4], [30_000, 300]), AT);
    expect(a.breach).toBe(false);
    expect(a.worst!.message).toMatch(
      /watching: 4 tasks since the deploy, under auto_revert.min_events \(50\)/,
    );
  });

  it('at the end of the watch a deploy is kept: clear when the bound is under the line, else inconclusive', () => {
    const end = deployed + 60 * 60_000;
    const clear = assessDeployment(p, watch, result([30_000, 300], [30_000, 300]), end);
    expect(clear.worst!.status).toBe('clear');
    const strict = policy(`${BASE_POLICY}auto_revert:\n  burn_rate: 0.2\n`);
    const few = assessDeployment(strict, watch, result([60, 2], [60, 1]), end);
    expect(few.worst!.status).toBe('inconclusive');
    expect(few.worst!.message).toContain('kept, inconclusive');
  });

  it('the watch expires after auto_revert.within', () => {
    expect(assessDeployment(p, watch, result([1, 0], [1, 0]), deployed + 60 * 60_000).expired).toBe(true);
  });

  it('one request covers every watched deployment', () => {
    const watches = Array.from({ length: 100 }, (_, i) => ({ id: String(i), deployed_at: AT - i * 60_000 }));
    const req = planCanaryRequest(p, watches, AT, { onset: true });
    expect(req.slos).toHaveLength(1);
    // Per watch: post, baseline, the outage guard's spans up to auto_revert.recent (15m: 1, 2, 5,
    // 10, 15 min), the baseline's minutes (1h: 60, the overdispersion estimate) and the onset
    // guard's minutes since the deploy (60: its watch is over); a plain request leaves out the
    // minutes and the spans under five.
    expect(req.slos[0]!.ranges.filter((r) => r.key.startsWith('baseline:99'))).toHaveLength(1 + 5 + 60);
    expect(
      planCanaryRequest(p, watches, AT).slos[0]!.ranges.filter((r) => r.key.startsWith('post:99')),
    ).toHaveLength(1);
    expect(req.slos[0]!.ranges.filter((r) => r.key.startsWith('post:99:'))).toHaveLength(60);
    expect(req.slos[0]!.ranges.filter((r) => r.key === RANGE_WINDOW)).toHaveLength(1);
    const post99 = req.slos[0]!.ranges.find((r) => r.key === postKey('99'))!;
    expect([post99.from, post99.to]).toEqual([AT - 99 * 60_000, AT - 39 * 60_000]);
  });
});

describe('the always-valid judge', () => {
  it('reverts a deploy into an ongoing outage only if it is worse than the outage', () => {
    const base = { n: 6 * 60 * 5, x: 18 + 30 };
    const recent = [
      { n: 75, x: 23 },
      { n: 25, x: 8 },
    ];
    const common = {
      budgetRatio: 0.05,
      baseline: base,
      recent,
      windowBudget: 0.05 * 5 * 43_200,
      projectedTasks: null,
      confidence: 0.99,
      burnRate: 0.2,
      consumed: 0.01,
      minEvents: 10,
      final: false,
    };
    const same = judgeCounts({ ...common, post: { n: 100, x: 31 } });
    expect(same.outage_guard).toBe(true);
    expect(same.status).toBe('watching');
    const worse = judgeCounts({ ...common, post: { n: 100, x: 80 } });
    expect(worse.status).toBe('revert');
    expect(worse.compared).toBe('recent');
  });

  it('the e-value is monotone in the line and its bounds bracket the observed difference', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n0, n1, f0, f1) => {
          const b = { n: n0, x: Math.floor(f0 * n0) };
          const q = { n: n1, x: Math.floor(f1 * n1) };
          const d = q.x / q.n - b.x / b.n;
          expect(lnEvidence(b, q, d - 0.05, 'above')).toBeGreaterThanOrEqual(
            lnEvidence(b, q, d + 0.05, 'above') - 1e-9,
          );
          const { low, high } = differenceBounds(b, q, 0.01);
          if (low !== null) expect(low).toBeLessThanOrEqual(d + 1e-9);
          if (high !== null) expect(high).toBeGreaterThanOrEqual(d - 1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the timing guard', () => {
  // A scope at 5 tasks a minute, 1% failing for six hours before the deploy.
  const perMin = (n: number, x: number, minutes: number) => Array.from({ length: minutes }, () => ({ n, x }));
  const sum = (cs: Array<{ n: number; x: number }>) =>
    cs.reduce((a, c) => ({ n: a.n + c.n, x: a.x + c.x }), { n: 0, x: 0 });
  const look = (before: Array<{ n: number; x: number }>, after: Array<{ n: number; x: number }>) => {
    const baseline = sum(before);
    return {
      budgetRatio: 0.05,
      baseline,
      // The outage guard's spans: the last 1, 2, 5, 10, 20, 30 and 60 minutes.
      recent: [1, 2, 5, 10, 20, 30, 60].map((m) => sum(before.slice(-m))),
      preSeries: before.slice(-60),
      post: sum(after),
      postSeries: after,
      windowBudget: 0.05 * 5 * 43_200,
      projectedTasks: null,
      confidence: 0.99,
      burnRate: 0.2,
      consumed: 0.01,
      minEvents: 10,
      final: false,
    };
  };
  // 1 bad task in 20 each 4 minutes: 1.25% of 5 a minute, six hours of it.
  const healthy = Array.from({ length: 360 }, (_, k) => ({ n: 5, x: k % 20 === 0 ? 1 : 0 }));
  const minutes = (before: Array<{ n: number; x: number }>, after: Array<{ n: number; x: number }>) => ({
    before: 0.0125,
    pre: before.slice(-60),
    post: after,
    phi: 1,
  });

  it('times failures that began eight minutes into the watch to that minute, and keeps the deploy', () => {
    const after = [...perMin(5, 0, 8), ...perMin(5, 2, 6)];
    const free = judgeCounts({ ...look(healthy, after), postSeries: undefined });
    // Without the minutes since the deploy, 12 bad in 70 against 1.25% convicts it.
    expect(free.status).toBe('revert');
    const j = judgeCounts(look(healthy, after));
    expect(j.timing).toMatchObject({ kind: 'ramp', at: 8 });
    expect(j.timing!.ln).toBeGreaterThan(TIMING_LN);
    expect(j.status).toBe('watching');
  });

  it('narrows the evidence to the minutes before a change that began after the deploy, at a lower bar', () => {
    // Three clean minutes, then 2 of 5 failing: the onset at minute 3 fits far better than a step
    // at the deploy (ln ~5), but spread over every minute the incident could have begun in, the
    // Bayes factor is about 1: under TIMING_LN, over TIMING_AFTER_LN.
    const after = [...perMin(5, 0, 3), ...perMin(5, 2, 4)];
    const t = timeChange(minutes(healthy, after))!;
    expect(t.ln).toBeLessThan(TIMING_LN);
    expect(t.after!.ln).toBeGreaterThanOrEqual(TIMING_AFTER_LN);
    const at95 = { ...look(healthy, after), confidence: 0.95 };
    expect(judgeCounts({ ...at95, postSeries: undefined }).status).toBe('revert');
    const j = judgeCounts(at95);
    expect(j.timing).toMatchObject({ kind: 'ramp', at: 3 });
    expect(j.status).toBe('watching');
    // The same failures from the deploy's first minute on: nothing better than the deploy's step.
    expect(judgeCounts({ ...look(healthy, perMin(5, 2, 7)), confidence: 0.95 }).status).toBe('revert');
  });

  it('times failures that began three minutes before the deploy to then, and compares against those minutes', () => {
    const before = [...healthy.slice(3), ...perMin(5, 2, 3)];
    expect(timeChange(minutes(before, perMin(5, 2, 6)))!.best).toMatchObject({
      kind: 'ramp',
      at: -3,
      ramp: 1,
    });
    const j = judgeCounts(look(before, perMin(5, 2, 6)));
    expect(j.compared).toBe('recent');
    expect(j.status).toBe('watching');
    // Ten minutes into an incident at 40%, a deploy that fails every task is worse than it: the
    // counts fit a step at the incident's onset with the deploy's on top better than a ramp.
    const longer = [...healthy.slice(10), ...perMin(5, 2, 10)];
    const worse = judgeCounts(look(longer, perMin(5, 5, 6)));
    expect(worse.status).toBe('revert');
    expect(worse.timing!.kind === 'ramp' && worse.timing!.at).toBe(-10);
  });

  it('keeps a deploy made while an incident was still building up: nothing tells the two apart', () => {
    // Failures building up from four minutes before the deploy over eight minutes.
    const before = [...healthy.slice(4), ...[1, 1, 2, 2].map((x) => ({ n: 5, x }))];
    const after = [3, 3, 4, 4, 4, 4].map((x) => ({ n: 5, x }));
    const t = timeChange(minutes(before, after))!;
    expect(t.best).toMatchObject({ kind: 'ramp' });
    expect(t.best.kind === 'ramp' && t.best.at < 0 && t.best.at + t.best.ramp - 1 >= 0).toBe(true);
    expect(t.ln).toBeGreaterThan(TIMING_LN);
    expect(judgeCounts(look(before, after)).status).toBe('watching');
  });

  it('leaves out an incident come and gone while the deploy stayed live', () => {
    const after = [...perMin(5, 0, 10), ...perMin(5, 3, 8), ...perMin(5, 0, 12)];
    const j = judgeCounts(look(healthy, after));
    expect(j.timing).toMatchObject({ kind: 'window', at: 10, until: 18 });
    expect(j.status).toBe('watching');
  });

  it('finds no better minute for failures that step up at the deploy, and reverts', () => {
    const j = judgeCounts(look(healthy, perMin(5, 2, 6)));
    expect(j.status).toBe('revert');
    expect(j.timing).toBeNull();
    expect(j.timed).toBe(true);
  });

  it("a quiet scope borrows a busy scope's timing, and a scope that drifted on its own cannot time another", () => {
    // The free tier at a task a minute: two failures in three minutes, from minute 8 on.
    const quiet = [...perMin(1, 0, 8), { n: 1, x: 1 }, { n: 1, x: 0 }, { n: 1, x: 1 }];
    const quietBefore = perMin(1, 0, 60);
    const busy = [...perMin(20, 0, 8), ...perMin(20, 6, 3)];
    const busyBefore = Array.from({ length: 60 }, (_, k) => ({ n: 20, x: k % 5 === 0 ? 1 : 0 }));
    const alone = timeChange({ before: 0.01, pre: quietBefore, post: quiet, phi: 1 })!;
    const joint = timeChange({ before: 0.01, pre: quietBefore, post: quiet, phi: 1 }, [
      { before: 0.01, pre: busyBefore, post: busy, phi: 1 },
    ])!;
    expect(joint.ln).toBeGreaterThan(alone.ln + 3);
    expect(joint.best).toMatchObject({ kind: 'ramp', at: 8 });
    // A busy scope that changed 30 minutes before the deploy (a drift in the task mix) next to a
    // scope that stepped up at the deploy: the step stays the deploy's.
    const drift = [...Array.from({ length: 30 }, () => ({ n: 20, x: 0 })), ...perMin(20, 4, 30)];
    const stepped = timeChange(minutes(healthy, perMin(5, 2, 10)), [
      { before: 0.01, pre: drift, post: perMin(20, 4, 10), phi: 1 },
    ])!;
    expect(stepped.ln).toBeLessThan(TIMING_LN);
  });

  it('only ever withholds a revert: never reverts what the judge without it keeps', () => {
    const minute = fc
      .record({ n: fc.integer({ min: 0, max: 12 }), x: fc.integer({ min: 0, max: 12 }) })
      .map((c) => ({ n: c.n, x: Math.min(c.x, c.n) }));
    fc.assert(
      fc.property(
        fc.array(minute, { minLength: 1, maxLength: 20 }),
        fc.array(minute, { minLength: 1, maxLength: 15 }),
        (lastMinutes, after) => {
          const before = [...healthy.slice(lastMinutes.length), ...lastMinutes];
          const full = look(before, after);
          const plain = judgeCounts({
            ...full,
            postSeries: undefined,
            preSeries: undefined,
            recent: full.recent.map(() => ({ n: 0, x: 0 })),
          });
          if (judgeCounts(full).status === 'revert') expect(plain.status).toBe('revert');
        },
      ),
      { numRuns: 300 },
    );
  });
});
