import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDriver } from '../../src/store/driver.ts';
import type { SqlWatchStore } from '../../src/store/sql.ts';
import { sqlStoreDrivers } from '../support/sql-stores.ts';
import { MIN, newWatch, T0 } from './support.ts';

// What a tick asks of the store, on SQLite and on a real PostgreSQL: policy texts kept once by
// hash (migration 8) and handed back whole, rows written before it read as they were, and a
// group's checks and evidence written in one transaction each — all or nothing; and discovery's
// sync of an installation's repositories, all or nothing too.

const drivers = sqlStoreDrivers();

/** The store's driver, for what only a test does: rows as an older bot wrote them, raw counts. */
const driverOf = (store: SqlWatchStore) => (store as unknown as { db: SqlDriver }).db;

const POLICY_A = 'version: 1\n# policy A\n';
const POLICY_B = 'version: 1\n# policy B\n';

describe.each(drivers)('tick writes in the %s store', (kind, open) => {
  let store: SqlWatchStore;
  beforeAll(async () => {
    store = await open(`tick_writes_${kind.toLowerCase()}`);
    await store.add(newWatch(1, T0, { policy_text: POLICY_A }), T0);
    await store.add(newWatch(2, T0 + MIN, { policy_text: POLICY_A }), T0);
    await store.add(newWatch(3, T0 + 2 * MIN, { policy_text: POLICY_B }), T0);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('keeps each policy text once, out of the rows, and hands every watch its own', async () => {
    const db = driverOf(store);
    expect(await db.all('SELECT COUNT(*) AS n FROM watch_policies', [])).toEqual([
      { n: kind === 'SQLite' ? 2 : '2' },
    ]);
    expect(await db.all("SELECT COUNT(*) AS n FROM watches WHERE policy_text <> ''", [])).toEqual([
      { n: kind === 'SQLite' ? 0 : '0' },
    ]);
    const claimed = await store.claim('a', T0 + 3 * MIN, 60_000, 10);
    expect(claimed.map((w) => [w.deployment_id, w.policy_text])).toEqual([
      [1, POLICY_A],
      [2, POLICY_A],
      [3, POLICY_B],
    ]);
    expect((await store.get(3))?.policy_text).toBe(POLICY_B);
    expect((await store.list()).map((w) => w.policy_text)).toEqual([POLICY_A, POLICY_A, POLICY_B]);
  });

  it('reads a row written before migration 8 (its text in the row, no hash) as it was', async () => {
    await driverOf(store).run(
      'UPDATE watches SET policy_text = ?, policy_hash = NULL WHERE deployment_id = ?',
      [POLICY_B, 2],
    );
    expect((await store.get(2))?.policy_text).toBe(POLICY_B);
    await driverOf(store).run(
      'UPDATE watches SET policy_text = ?, policy_hash = NULL WHERE deployment_id = ?',
      [POLICY_A, 2],
    );
  });

  it("writes a group's checks in one go, each only where its lease holds", async () => {
    const now = T0 + 4 * MIN;
    await store.claim('a', now, 60_000, 10);
    expect(await store.checkedMany([1, 3, 99], 'a', now)).toEqual([true, true, false]);
    expect(await store.checkedMany([1], 'b', now)).toEqual([false]);
    expect(await store.checkedMany([], 'a', now)).toEqual([]);
    expect((await store.get(1))?.last_checked_at).toBe(now);
    expect((await store.get(2))?.last_checked_at).toBe(null);
  });

  it("writes a group's evidence in one transaction: a failed row leaves none of it", async () => {
    const at = T0 + 5 * MIN;
    await store.recordEvidenceMany([
      { id: 1, at, evidence: '{"breach":false}' },
      { id: 2, at, evidence: '{"breach":true}' },
    ]);
    expect((await store.service.evidenceOf(2)).map((r) => r.evidence)).toEqual(['{"breach":true}']);
    const later = at + MIN;
    await expect(
      store.recordEvidenceMany([
        { id: 1, at: later, evidence: '{"breach":false}' },
        { id: 3, at: later, evidence: null as unknown as string },
      ]),
    ).rejects.toThrow();
    expect((await store.service.evidenceOf(1)).map((r) => r.at)).toEqual([at]);
    // The store is usable after the rollback.
    await store.recordEvidenceMany([{ id: 3, at: later, evidence: '{}' }]);
    expect((await store.service.evidenceOf(3)).map((r) => r.at)).toEqual([later]);
  });

  it("syncs an installation's repositories in one transaction: a failed row leaves them as they were", async () => {
    const repo = (name: string) => ({
      owner: 'acme',
      repo: name,
      installation_id: 7,
      default_branch: 'main',
    });
    const active = async () =>
      (await store.service.list()).filter((r) => r.installation_id === 7).map((r) => [r.full_name, r.active]);
    await store.service.sync(7, [repo('a'), repo('b')], T0);
    expect(await active()).toEqual([
      ['acme/a', true],
      ['acme/b', true],
    ]);
    // A row the store refuses (no default branch) after the switch-off and one good upsert: had
    // they landed one by one, acme/b would now read inactive until the next discovery.
    await expect(
      store.service.sync(
        7,
        [repo('a'), { ...repo('c'), default_branch: null as unknown as string }],
        T0 + MIN,
      ),
    ).rejects.toThrow();
    expect(await active()).toEqual([
      ['acme/a', true],
      ['acme/b', true],
    ]);
    await store.service.sync(7, [repo('a')], T0 + 2 * MIN);
    expect(await active()).toEqual([
      ['acme/a', true],
      ['acme/b', false],
    ]);
  });
});
