import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { DEMO_POLICY } from '../../src/scenarios/demo.ts';
import {
  drawTrial,
  type JudgeSettings,
  newJudgeWatch,
  type TrialSpec,
} from '../../src/scenarios/fleet-trials.ts';

// The judge's error rates on a fixed seed, under the shipped example policy: what `npm run
// quality` measures at scale, held here at a size a test can afford.

const ar = loadPolicy(readFileSync(DEMO_POLICY, 'utf8'), DEMO_POLICY).policy.auto_revert;
const settings: JudgeSettings = {
  confidence: ar.confidence,
  burnRate: ar.burn_rate,
  consumed: ar.consumed,
  minEvents: ar.min_events,
  baselineMin: ar.baseline.ms / 60_000,
  recentMin: ar.recent.ms / 60_000,
  windowMin: 30 * 1440,
  onsetGuard: true,
};
const PAID = { perMinute: 5, budgetRatio: 0.05, baseFailure: 0.01 };
const FREE = { perMinute: 0.6, budgetRatio: 0.1, baseFailure: 0.03 };
const BUSY = { perMinute: 30, budgetRatio: 0.05, baseFailure: 0.01 };

function run(spec: TrialSpec, n: number, seed: number, slis: Array<'failure' | 'latency' | 'cost'>) {
  const minutes: Array<number | null> = [];
  for (let i = 0; i < n; i++) {
    const c = drawTrial(spec, seed + i);
    const got = slis.map((k) => newJudgeWatch(c, k, spec, settings, false).minute).filter((m) => m !== null);
    minutes.push(got.length > 0 ? Math.min(...got) : null);
  }
  return minutes;
}

describe('the canary judge on simulated deploys (seed 1313)', () => {
  it('never reverts a healthy deploy on noise, busy or quiet', () => {
    const paid = run({ ...PAID, regression: null, outage: 'none' }, 300, 1313, [
      'failure',
      'latency',
      'cost',
    ]);
    expect(paid.filter((m) => m !== null)).toEqual([]);
    const free = run({ ...FREE, regression: null, outage: 'none', companion: BUSY }, 300, 2313, ['failure']);
    expect(free.filter((m) => m !== null)).toEqual([]);
  });

  it('does not blame a quiet scope for an outage the busy scope saw begin', () => {
    const spec: TrialSpec = { ...FREE, regression: null, outage: 'in-progress', companion: BUSY };
    const reverted = run(spec, 200, 3313, ['failure']).filter((m) => m !== null);
    expect(reverted.length).toBeLessThanOrEqual(1);
  });

  it('reverts 1% → 40% at 5 tasks a minute within 10 minutes', () => {
    const spec: TrialSpec = { ...PAID, regression: { kind: 'failure', size: 0.4 }, outage: 'none' };
    const m = run(spec, 200, 4313, ['failure']);
    expect(m.filter((x) => x !== null && x <= 10).length).toBeGreaterThanOrEqual(198);
  });
});
