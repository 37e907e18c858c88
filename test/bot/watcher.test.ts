import { describe, expect, it } from 'vitest';
import { collectingLog } from '../../src/bot/log.ts';
import { Watcher } from '../../src/bot/watcher.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { useNock } from '../support/nock.ts';
import { attributable, firstBreachMinute } from './oracle.ts';
import {
  DEPLOYMENT_ID,
  MIN,
  newWatch,
  recordingReverter,
  scenarioBot,
  scenarioTasks,
  startWatch,
  T0,
  testClock,
  writeScenario,
} from './support.ts';

// The watcher against the real JSONL source on a clock the test moves a minute at a time. The
// watches start from real deployment_status payloads through Probot; the reverts are recorded
// rather than sent (the GitHub side of a revert is revert.test.ts's).

useNock();

async function watchScenario(tasks: ReturnType<typeof scenarioTasks>) {
  const store = new SqliteWatchStore(':memory:');
  const { source, clock, probot } = scenarioBot(tasks, store);
  await startWatch(probot, 'd');
  const reverter = recordingReverter();
  const watcher = new Watcher({
    store,
    source,
    clock: clock.now,
    replica: 'r1',
    revert: reverter.revert,
    log: collectingLog(),
  });
  /** Ticks once a minute through the hour and a little past; returns the minutes with a revert. */
  const runHour = async () => {
    for (let m = 1; m <= 62; m++) {
      clock.set(T0 + m * MIN);
      const r = await watcher.tick();
      expect(r.errors).toEqual([]);
    }
  };
  return { store, reverter, runHour };
}

describe('watcher', () => {
  it('leaves alone a deployment that burns 5% of the budget in its hour, and ends the watch', async () => {
    const tasks = scenarioTasks(0.005, 0.0085);
    expect(attributable(tasks, T0, T0 + 60 * MIN).consumed).toBeCloseTo(0.05, 2);
    expect(firstBreachMinute(tasks, T0)).toBeNull();
    const { store, reverter, runHour } = await watchScenario(tasks);
    await runHour();
    expect(reverter.calls).toEqual([]);
    const w = await store.get(DEPLOYMENT_ID);
    expect(w).toMatchObject({ status: 'expired', lease_owner: null });
    expect(w!.reason).toMatch(/kept.*burned [45](\.\d)?% of the 7d budget beyond its baseline in 60 min/);
  });

  it('does not blame a deployment that ships during a provider outage (high baseline)', async () => {
    // 8% of tasks fail from 90 minutes before the deploy onwards: the outage, not the deploy.
    const tasks = scenarioTasks(0.005, 0.08, { outageFrom: T0 - 90 * MIN });
    const a = attributable(tasks, T0, T0 + 20 * MIN);
    expect(a.ratio).toBeCloseTo(0.08, 3);
    expect(a.consumed).toBeLessThan(0.01);
    // Without the baseline the same post-deploy failures would be 40%+ of the budget: a revert.
    expect(a.post.bad / (0.01 * 38_000)).toBeGreaterThan(0.4);
    const { store, reverter, runHour } = await watchScenario(tasks);
    await runHour();
    expect(reverter.calls).toEqual([]);
    expect((await store.get(DEPLOYMENT_ID))!.status).toBe('expired');
  });

  it('reverts once, at the first tick past the line, with the numbers the slow count gives', async () => {
    const tasks = scenarioTasks(0.005, 0.0525);
    const breachAt = firstBreachMinute(tasks, T0)!;
    const { store, reverter, runHour } = await watchScenario(tasks);
    await runHour();
    expect(reverter.calls).toHaveLength(1);
    expect(reverter.calls[0]!.at).toBe(T0 + breachAt * MIN);
    expect(reverter.calls[0]!.consumed!).toBeCloseTo(
      attributable(tasks, T0, T0 + breachAt * MIN).consumed,
      6,
    );
    expect((await store.get(DEPLOYMENT_ID))!).toMatchObject({ status: 'reverted', revert_pr: 1001 });
  });

  it('keeps watches live through a telemetry failure and judges them at the next tick', async () => {
    const tasks = scenarioTasks(0.005, 0.0525);
    const path = writeScenario(tasks);
    const store = new SqliteWatchStore(':memory:');
    await store.add(newWatch(DEPLOYMENT_ID, T0), T0);
    const breachAt = firstBreachMinute(tasks, T0)!;
    const clock = testClock(T0 + (breachAt - 1) * MIN);
    const reverter = recordingReverter();
    const broken = new JsonlSource({ path: `${path}.missing` });
    const log = collectingLog();
    const down = new Watcher({
      store,
      source: broken,
      clock: clock.now,
      replica: 'r1',
      revert: reverter.revert,
      log,
    });
    const r = await down.tick();
    expect(r.errors[0]).toMatch(
      /telemetry from jsonl .* failed, 1 watch\(es\) kept for the next tick: cannot read telemetry .*: no such file/,
    );
    expect((await store.get(DEPLOYMENT_ID))!.status).toBe('watching');
    const up = new Watcher({
      store,
      source: new JsonlSource({ path }),
      clock: clock.now,
      replica: 'r1',
      revert: reverter.revert,
      log,
    });
    clock.set(T0 + breachAt * MIN);
    expect((await up.tick()).reverted).toHaveLength(1);
  });
});
