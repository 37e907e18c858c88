import pg_ from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingLog } from '../../src/bot/log.ts';
import { Watcher } from '../../src/bot/watcher.ts';
import { PostgresWatchStore } from '../../src/store/postgres.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { type RunningPostgres, startPostgres } from '../support/postgres.ts';
import { firstBreachMinute } from './oracle.ts';
import {
  MIN,
  newWatch,
  policyForService,
  recordingReverter,
  scenarioTasks,
  T0,
  testClock,
  writeScenario,
} from './support.ts';

// Two replicas on one real PostgreSQL. The `refunds` deployment breaks its service (5.25% failing
// from T0, the 25%-in-20-minutes scenario); ten `search` deployments are healthy. Whatever the
// interleaving, exactly one revert is opened and every watch reaches an end.

const { Client } = pg_;
let pg: RunningPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

const BAD_ID = 9_000_000_001;
const refundsTasks = scenarioTasks(0.005, 0.0525, { attrs: { service: 'refunds' } });
const tasks = [
  ...refundsTasks,
  ...scenarioTasks(0.005, 0.005, { attrs: { service: 'search' }, perMinute: 10 }),
];

async function fleet(db: string) {
  const url = await pg.createDatabase(db);
  // Both replicas start at once: the migration lock lets one create the schema.
  const [a, b] = await Promise.all([
    PostgresWatchStore.open({ connectionString: url }),
    PostgresWatchStore.open({ connectionString: url }),
  ]);
  await a.add(newWatch(BAD_ID, T0, { policy_text: policyForService('refunds') }), T0);
  for (let i = 0; i < 10; i++) {
    await a.add(newWatch(100 + i, T0 - (10 - i) * MIN, { policy_text: policyForService('search') }), T0);
  }
  const source = new JsonlSource({ path: writeScenario(tasks) });
  const clock = testClock(T0);
  const reverts = recordingReverter();
  const watcher = (store: PostgresWatchStore, replica: string) =>
    new Watcher({
      store,
      source,
      clock: clock.now,
      replica,
      leaseMs: 2 * MIN,
      revert: reverts.revert,
      log: collectingLog(),
    });
  return { a, b, clock, reverts, wa: watcher(a, 'replica-a'), wb: watcher(b, 'replica-b') };
}

describe('PostgreSQL store, two replicas', () => {
  it('concurrent ticks split the watches and open exactly one revert', async () => {
    const { a, b, clock, reverts, wa, wb } = await fleet('concurrent');
    const breachAt = firstBreachMinute(refundsTasks, T0)!;
    for (let m = 1; m <= 62; m++) {
      clock.set(T0 + m * MIN);
      const [ra, rb] = await Promise.all([wa.tick(), wb.tick()]);
      expect([...ra.errors, ...rb.errors]).toEqual([]);
      const live = (await a.list()).filter((w) => w.status === 'watching' || w.status === 'reverting').length;
      // No watch is leased twice: what the two claimed adds up to at most what was live.
      expect(ra.claimed + rb.claimed).toBeLessThanOrEqual(
        live + ra.reverted.length + rb.reverted.length + ra.expired.length + rb.expired.length,
      );
    }
    expect(reverts.calls).toEqual([
      expect.objectContaining({ deployment_id: BAD_ID, at: T0 + breachAt * MIN }),
    ]);
    const all = await b.list();
    expect(all).toHaveLength(11);
    expect(all.filter((w) => w.status === 'reverted').map((w) => w.deployment_id)).toEqual([BAD_ID]);
    expect(all.filter((w) => w.status === 'expired')).toHaveLength(10);
    await Promise.all([a.close(), b.close()]);
  });

  it('a replica that stops mid-lease loses its watches to the other after one lease, none lost', async () => {
    const { a, b, clock, reverts, wa, wb } = await fleet('failover');
    clock.set(T0 + MIN);
    expect((await wa.tick()).claimed).toBe(11);
    // Replica A dies holding every lease (until minute 3): its connections go, nothing is released.
    await a.close();

    const claimedByB: Array<[number, number]> = [];
    for (let m = 2; m <= 62; m++) {
      clock.set(T0 + m * MIN);
      const r = await wb.tick();
      expect(r.errors).toEqual([]);
      claimedByB.push([m, r.claimed]);
    }
    // Minutes 2 and 3: A's lease still holds. Minute 4: B takes all of them.
    expect(claimedByB.slice(0, 3)).toEqual([
      [2, 0],
      [3, 0],
      [4, 11],
    ]);
    expect(reverts.calls.map((c) => c.deployment_id)).toEqual([BAD_ID]);
    const all = await b.list();
    expect(all.map((w) => w.status).sort()).toEqual([...Array(10).fill('expired'), 'reverted']);
    expect(all.every((w) => w.lease_owner === null)).toBe(true);
    await b.close();
  });

  it('an idle connection the server drops is logged, not swallowed, and the store carries on', async () => {
    const url = await pg.createDatabase('dropped');
    const errors: string[] = [];
    const store = await PostgresWatchStore.open({
      connectionString: url,
      onError: (e) => errors.push(e.message),
    });
    await store.add(newWatch(1, T0), T0);
    // An administrator (or a failover) ends every other session on the database.
    const admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    await admin.end();
    for (let i = 0; i < 200 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(errors).toEqual([expect.stringMatching(/terminating connection due to administrator command/)]);
    expect((await store.list()).map((w) => w.deployment_id)).toEqual([1]);
    await store.close();
  });

  it('both replicas see a delivery either one handled (the record recovery reads), and a second record of it is no error', async () => {
    const url = await pg.createDatabase('deliveries');
    const [a, b] = await Promise.all([
      PostgresWatchStore.open({ connectionString: url }),
      PostgresWatchStore.open({ connectionString: url }),
    ]);
    try {
      await a.deliveryHandled('guid-1', 'deployment_status', T0);
      await b.deliveryHandled('guid-1', 'deployment_status', T0 + MIN);
      await b.deliveryHandled('guid-2', 'pull_request', T0 - 60 * MIN);
      expect(await a.handledDeliveries(T0 - MIN)).toEqual(new Set(['guid-1']));
      expect(await b.handledDeliveries(0)).toEqual(new Set(['guid-1', 'guid-2']));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
