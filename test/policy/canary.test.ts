import { describe, expect, it } from 'vitest';
import {
  assessDeployment,
  baselineKey,
  countSample,
  planCanaryRequest,
  postKey,
  RANGE_WINDOW,
  type TelemetryResult,
} from '../../src/policy/index.ts';
import { AT, policy } from './fixtures.ts';

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
  it('a deployment that burns 25% of the budget in 20 minutes is a breach', () => {
    const a = assessDeployment(p, watch, result([10_000, 3_850], [30_000, 300]), AT);
    expect(a.breach).toBe(true);
    expect(a.expired).toBe(false);
    // 3,850 bad minus 1% baseline of 10,000 = 3,750 excess; 3,750 / 15,000 = 25%.
    expect(a.worst!.attributable_consumed).toBeCloseTo(0.25, 9);
    expect(a.worst!.message).toContain('burned 25% of the 30d budget beyond its baseline in 20 min');
  });

  it('one that burns 5% is left alone', () => {
    const a = assessDeployment(p, watch, result([10_000, 850], [30_000, 300]), AT);
    expect(a.breach).toBe(false);
    expect(a.worst!.attributable_consumed).toBeCloseTo(0.05, 9);
  });

  it('one that ships during an ongoing provider outage is not blamed for it', () => {
    // 40% of tasks failed before the deploy and still do after it: nothing is attributable.
    const a = assessDeployment(p, watch, result([10_000, 4_000], [30_000, 12_000]), AT);
    expect(a.breach).toBe(false);
    expect(a.worst!.attributable_consumed).toBe(0);
  });

  it('projection reaches the line early only when the policy allows it and min_events is met', () => {
    const proj = policy(
      `${'version: 1\nslos:\n  - { name: refunds-success, sli: { kind: success }, target: 0.95, window: 30d, scope: all }\n'}auto_revert:\n  projected: true\n  min_events: 1000\n`,
    );
    const early = result([6_000, 1_860], [30_000, 300]); // 1,800 excess = 12% in 20 min → 36% projected at 60 min
    expect(assessDeployment(p, watch, early, AT).breach).toBe(false);
    const a = assessDeployment(proj, watch, early, AT);
    expect(a.breach).toBe(true);
    expect(a.worst!.projected_consumed).toBeCloseTo(0.36, 9);
    expect(assessDeployment(proj, watch, result([600, 186], [30_000, 300]), AT).breach).toBe(false);
  });

  it('the watch expires after auto_revert.within', () => {
    expect(assessDeployment(p, watch, result([1, 0], [1, 0]), deployed + 60 * 60_000).expired).toBe(true);
  });

  it('one request covers every watched deployment', () => {
    const watches = Array.from({ length: 100 }, (_, i) => ({ id: String(i), deployed_at: AT - i * 60_000 }));
    const req = planCanaryRequest(p, watches, AT);
    expect(req.slos).toHaveLength(1);
    expect(req.slos[0]!.ranges).toHaveLength(1 + 2 * 100);
    const post99 = req.slos[0]!.ranges.find((r) => r.key === postKey('99'))!;
    expect([post99.from, post99.to]).toEqual([AT - 99 * 60_000, AT - 39 * 60_000]);
  });
});
