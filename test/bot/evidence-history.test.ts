import { describe, expect, it } from 'vitest';
import { collectingLog } from '../../src/bot/log.ts';
import { Watcher } from '../../src/bot/watcher.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { MIN, newWatch, recordingReverter, scenarioSource, T0, testClock } from './support.ts';

// Each check of a watch leaves its evidence in the store, minute by minute (before, only the
// snapshot at the revert was kept): what a dashboard draws for a deployment's first hour.

describe("a watch's evidence history", () => {
  it('is stored at every check, one row per minute, up to the revert', async () => {
    const store = new SqliteWatchStore(':memory:');
    const clock = testClock(T0 + MIN);
    const source = scenarioSource(0.005, 0.2);
    const { revert, calls } = recordingReverter();
    const w = new Watcher({ store, source, clock: clock.now, replica: 'a', revert, log: collectingLog() });
    await store.add(newWatch(1, T0), T0);
    for (let m = 1; m <= 30 && calls.length === 0; m++) {
      clock.set(T0 + m * MIN + 500);
      await w.tick();
    }
    expect(calls).toHaveLength(1);
    const rows = await store.service.evidenceOf(1);
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.map((r) => r.minute)).toEqual(rows.map((_, i) => Math.floor(T0 / MIN) + 1 + i));
    const last = JSON.parse(rows.at(-1)!.evidence);
    expect(last).toMatchObject({ breach: true, slos: [{ slo: 'tasks-success', status: 'revert' }] });
    const first = JSON.parse(rows[0]!.evidence);
    expect(first.breach).toBe(false);
    expect(first.slos[0].post.events).toBeGreaterThan(0);
    await store.close();
  });
});
