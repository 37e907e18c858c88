import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_POLICY } from '../../src/scenarios/demo.ts';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/tasks.ts';

// End to end: `simulate --fleet` writes a fleet's telemetry, and `canary --replay` judges its
// deploys from that file under the example policy (cluster_by: customer, the arm split) as the bot
// would have — with the fleet's bad batches, retries and task-mix drift around them.

const HOUR = 3_600_000;

interface Deploy {
  id: number;
  at: string;
  bad: boolean;
}

/** Deploys with six hours before them free of any other bad deploy, and an hour after before the next. */
function judgeable(deploys: Deploy[], start: number, end: number): Deploy[] {
  const t = (d: Deploy) => Date.parse(d.at);
  return deploys.filter((d, i) => {
    const next = deploys[i + 1];
    if (t(d) - 6 * HOUR < start || (next ? t(next) : end) < t(d) + HOUR) return false;
    // Live in the baseline: every earlier deploy that the next one did not replace before it began.
    return deploys.slice(0, i).every((e, j) => !e.bad || t(deploys[j + 1]!) <= t(d) - 6 * HOUR);
  });
}

async function replay(dir: string, d: Deploy) {
  const r = await cli([
    'canary',
    '--replay',
    '--json',
    '--policy',
    DEMO_POLICY,
    '--telemetry',
    join(dir, 'telemetry.jsonl'),
    '--deployed-at',
    d.at,
  ]);
  expect(r.stderr).toBe('');
  return { code: r.code, out: JSON.parse(r.stdout) };
}

describe('simulate --fleet, judged by canary --replay', () => {
  for (const split of [[], ['--canary-share', '0.2']]) {
    it(`reverts a 1% -> 40% failure deploy and keeps a healthy one${split.length ? ' (canary split)' : ''}`, async () => {
      const dir = tempDir('bg-fleet-replay-');
      const gen = await cli([
        'simulate',
        '--fleet',
        '--days',
        '3',
        '--seed',
        '5',
        '--regression',
        'failure',
        '--failure-to',
        '0.4',
        '--bad-share',
        '0.3',
        '--outages-per-day',
        '0',
        ...split,
        '--out',
        dir,
      ]);
      expect(gen.code).toBe(0);
      const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8'));
      const deploys = judgeable(truth.deploys, Date.parse(truth.start), Date.parse(truth.end));
      const bad = deploys.find((d) => d.bad);
      const good = deploys.find((d) => !d.bad);
      expect(bad).toBeDefined();
      expect(good).toBeDefined();
      const reverted = await replay(dir, bad!);
      expect(reverted.code).toBe(1);
      expect(reverted.out.verdict).toBe('revert');
      expect(reverted.out.minute).toBeLessThanOrEqual(15);
      // With the split, the canary arm is judged against the stable one over the same minutes.
      expect(reverted.out.reason).toContain(split.length ? 'on the canary arm' : 'before it');
      const kept = await replay(dir, good!);
      expect(kept.code).toBe(0);
      expect(kept.out.verdict).toBe('keep');
    });
  }
});
