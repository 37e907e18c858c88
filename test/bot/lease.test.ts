import { describe, expect, it } from 'vitest';
import { collectingLog } from '../../src/bot/log.ts';
import { PolicyCache } from '../../src/bot/policy-cache.ts';
import { NO_PROGRESS } from '../../src/bot/revert/progress.ts';
import { type Reverter, Watcher } from '../../src/bot/watcher.ts';
import type { WatchStore } from '../../src/policy/canary/ports.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { EVIDENCE } from './crash/matrix.ts';
import { MIN, newWatch, POLICY_TEXT, scenarioSource, T0, testClock } from './support.ts';

// Leases under a slow tick: the clock is read at every lease check, a long revert renews the
// leases of the whole tick as it goes, and a replica that stalled past its lease finds out before
// it writes. Also: one unreadable row does not hold up its neighbours, and stop() waits for the
// tick in progress.

const LEASE = 2 * MIN;
const source = scenarioSource(0.005, 0.005);

/** A breach recorded earlier: the watch is `reverting` with its evidence, and free. */
async function seedReverting(store: WatchStore, id: number, at: number, evidence = JSON.stringify(EVIDENCE)) {
  await store.add(newWatch(id, T0, { repo: `repo-${id}` }), at);
  await store.claim('seeder', at, LEASE, 100);
  expect(await store.startRevert(id, 'seeder', at, evidence)).toBe(true);
  await store.release('seeder');
}

function watcherOf(store: WatchStore, clock: () => number, replica: string, revert: Reverter) {
  const log = collectingLog();
  return { log, w: new Watcher({ store, source, clock, replica, leaseMs: LEASE, revert, log }) };
}

const done = { pull_number: 99, url: 'https://github.com/o/r/pull/99', existing: false, draft: false };

describe('leases during a long tick', () => {
  it('a revert that outlasts the lease renews the whole tick as it goes: no other replica gets in', async () => {
    const store = new SqliteWatchStore(':memory:');
    const clock = testClock(T0 + 10 * MIN);
    await seedReverting(store, 1, clock.now());
    // Another repository's watch, checked in the same tick after the revert.
    await store.add(newWatch(2, T0 + MIN, { repo: 'other' }), clock.now());
    const seenByB: number[][] = [];
    const slow: Reverter = async (_w, _e, _p, ctx) => {
      for (let step = 0; step < 5; step++) {
        clock.set(clock.now() + MIN); // five minutes in all, over two leases
        await ctx.save({ ...NO_PROGRESS, done: [] });
        seenByB.push((await store.claim('replica-b', clock.now(), LEASE, 10)).map((w) => w.deployment_id));
      }
      return done;
    };
    const a = watcherOf(store, clock.now, 'replica-a', slow);
    const report = await a.w.tick();
    expect(report.errors).toEqual([]);
    expect(seenByB).toEqual([[], [], [], [], []]);
    expect(report.reverted).toEqual([{ deployment_id: 1, pull_number: 99, existing: false }]);
    expect(report.evaluated).toBe(1);
    expect(await store.get(2)).toMatchObject({ lease_owner: 'replica-a', last_checked_at: T0 + 15 * MIN });
    await store.close();
  });

  it('a replica that stalls past its lease loses the watches and writes nothing for them', async () => {
    const store = new SqliteWatchStore(':memory:');
    const clock = testClock(T0 + 10 * MIN);
    await seedReverting(store, 1, clock.now());
    await store.add(newWatch(2, T0 + MIN, { repo: 'other' }), clock.now());
    const stalled: Reverter = async (_w, _e, _p, ctx) => {
      // A GC pause or a hung request: three minutes without a heartbeat; replica B takes over.
      clock.set(clock.now() + 3 * MIN);
      expect((await store.claim('replica-b', clock.now(), LEASE, 10)).map((w) => w.deployment_id)).toEqual([
        1, 2,
      ]);
      await ctx.save(NO_PROGRESS);
      return done;
    };
    const a = watcherOf(store, clock.now, 'replica-a', stalled);
    const report = await a.w.tick();
    expect(report.reverted).toEqual([]);
    expect(a.log.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/deployment 1: lease lost mid-revert/),
        expect.stringMatching(/deployment 2: lease lost during the tick/),
      ]),
    );
    // Replica B holds both, untouched by A: the revert is B's to finish, the check B's to make.
    expect(await store.get(1)).toMatchObject({
      status: 'reverting',
      lease_owner: 'replica-b',
      revert_pr: null,
    });
    expect(await store.get(2)).toMatchObject({ lease_owner: 'replica-b', last_checked_at: null });
    await store.close();
  });

  it('an unreadable evidence row is reported and skipped; the rest of its repository is reverted', async () => {
    const store = new SqliteWatchStore(':memory:');
    const clock = testClock(T0 + 10 * MIN);
    await store.add(newWatch(1, T0), clock.now());
    await store.add(newWatch(2, T0 + 1), clock.now());
    await store.claim('seeder', clock.now(), LEASE, 10);
    await store.startRevert(1, 'seeder', clock.now(), '{"slo": "half a row');
    await store.startRevert(2, 'seeder', clock.now(), JSON.stringify(EVIDENCE));
    await store.release('seeder');
    const reverted: number[] = [];
    const a = watcherOf(store, clock.now, 'replica-a', async (w) => {
      reverted.push(w.deployment_id);
      return done;
    });
    const report = await a.w.tick();
    expect(reverted).toEqual([2]);
    expect(report.errors).toEqual([expect.stringMatching(/^deployment 1: stored evidence unreadable/)]);
    await store.close();
  });
});

describe('shutdown', () => {
  it('stop() resolves only once the running tick is over, and no tick starts after it', async () => {
    const store = new SqliteWatchStore(':memory:');
    const clock = testClock(T0 + 10 * MIN);
    await seedReverting(store, 1, clock.now());
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered!: () => void;
    const inRevert = new Promise<void>((r) => {
      entered = r;
    });
    const a = watcherOf(store, clock.now, 'replica-a', async () => {
      entered();
      await gate;
      events.push('revert done');
      return done;
    });
    const tick = a.w.tick();
    await inRevert;
    const stopped = a.w.stop().then(() => events.push('stopped'));
    events.push('stop called');
    release();
    await Promise.all([tick, stopped]);
    expect(events).toEqual(['stop called', 'revert done', 'stopped']);
    // The tick finished its writes before stop() resolved; a later tick does nothing.
    expect(await store.get(1)).toMatchObject({ status: 'reverted', lease_owner: null });
    await store.add(newWatch(3, T0), clock.now());
    expect((await a.w.tick()).claimed).toBe(0);
    expect((await store.get(3))!.lease_owner).toBeNull();
    await store.close();
  });
});

describe('policy cache', () => {
  it('keeps the most recently used policies only', () => {
    const cache = new PolicyCache(2);
    const texts = [1, 2, 3].map((i) => POLICY_TEXT.replace('consumed: 0.2', `consumed: 0.${i}`));
    for (const t of texts) cache.get(t, 'p.yml');
    cache.get(texts[2]!, 'p.yml');
    expect(cache.size).toBe(2);
    expect(cache.get(texts[0]!, 'p.yml').auto_revert.consumed).toBe(0.1);
    expect(cache.size).toBe(2);
  });
});
