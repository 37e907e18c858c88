import { describe, expect, it } from 'vitest';
import { collectingLog } from '../../src/bot/log.ts';
import { Watcher } from '../../src/bot/watcher.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { assertAllCalled, useNock } from '../support/nock.ts';
import { tempDir } from '../support/tasks.ts';
import { firstBreachMinute } from './oracle.ts';
import { nockRevert, REVERT_PR } from './revert-nock.ts';
import {
  DEPLOYMENT_ID,
  MIN,
  newWatch,
  nockInstallationToken,
  probotWatcher,
  recordingReverter,
  scenarioBot,
  scenarioSource,
  scenarioTasks,
  startWatch,
  T0,
  testClock,
  testProbot,
} from './support.ts';

// The embedded store across a crash: the process dies mid-watch without handing its lease back;
// the next process opens the same SQLite file, waits out the dead one's lease, and still reverts.

useNock();

describe('SQLite store across a restart', () => {
  it('resumes a live watch after a crash and reverts it', async () => {
    const file = `${tempDir('bg-restart-')}/data/watches.sqlite`;
    const tasks = scenarioTasks(0.005, 0.0525);
    const breachAt = firstBreachMinute(tasks, T0)!;
    // First process: records the watch, ticks through minute 8.
    const store1 = new SqliteWatchStore(file);
    const { path, source: source1, clock, deps: deps1, probot: probot1 } = scenarioBot(tasks, store1);
    await startWatch(probot1, 'd');
    const first = probotWatcher(probot1, {
      store: store1,
      source: source1,
      clock: clock.now,
      replica: 'host-pid-1',
    });
    for (let m = 1; m <= 8; m++) {
      clock.set(T0 + m * MIN);
      expect((await first.watcher.tick()).claimed).toBe(1);
    }
    // Killed: no release, the lease (2 minutes from the last tick) is still held.
    await store1.close();

    // Second process: same file, new replica id, new Probot.
    const store2 = new SqliteWatchStore(file);
    const source2 = new JsonlSource({ path });
    const probot2 = testProbot({ ...deps1, store: store2, source: source2 });
    const second = probotWatcher(probot2, {
      store: store2,
      source: source2,
      clock: clock.now,
      replica: 'host-pid-2',
    });
    expect(await store2.get(DEPLOYMENT_ID)).toMatchObject({
      status: 'watching',
      lease_owner: 'host-pid-1',
      last_checked_at: T0 + 8 * MIN,
    });
    const claimedAt: number[] = [];
    let revertedAt: number | null = null;
    for (let m = 9; m <= breachAt; m++) {
      clock.set(T0 + m * MIN);
      if (m === breachAt) {
        nockInstallationToken();
        nockRevert();
      }
      const r = await second.watcher.tick();
      expect(r.errors).toEqual([]);
      if (r.claimed > 0) claimedAt.push(m);
      if (r.reverted.length > 0) revertedAt = m;
    }
    assertAllCalled();
    // Held by the dead process until minute 10; taken over at the first tick after.
    expect(claimedAt[0]).toBe(11);
    expect(revertedAt).toBe(breachAt);
    expect(await store2.get(DEPLOYMENT_ID)).toMatchObject({ status: 'reverted', revert_pr: REVERT_PR });
    await store2.close();
  });

  it('a clean shutdown hands the leases back, so the next process resumes at once', async () => {
    const file = `${tempDir('bg-restart-')}/watches.sqlite`;
    const source = scenarioSource(0.005, 0.005);
    const store1 = new SqliteWatchStore(file);
    await store1.add(newWatch(DEPLOYMENT_ID, T0), T0);
    const clock = testClock(T0 + MIN);
    const mk = (store: SqliteWatchStore, replica: string) =>
      new Watcher({
        store,
        source,
        clock: clock.now,
        replica,
        revert: recordingReverter().revert,
        log: collectingLog(),
      });
    expect((await mk(store1, 'a').tick()).claimed).toBe(1);
    await store1.release('a');
    await store1.close();
    const store2 = new SqliteWatchStore(file);
    clock.set(T0 + 2 * MIN);
    expect((await mk(store2, 'b').tick()).claimed).toBe(1);
    await store2.close();
  });
});
