import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oncallPage } from '../../src/dashboard/pages/oncall.ts';
import { SqlDashboardStore } from '../../src/dashboard/sql-store.ts';
import { assessReadiness } from '../../src/policy/readiness/verdict.ts';
import { repoFiles } from '../../src/repo/files.ts';
import type { SqlWatchStore } from '../../src/store/sql.ts';
import { FLEET_AT, repoName } from '../support/dashboard-fleet.ts';
import { fillSqlStore } from '../support/dashboard-sql.ts';
import { sqlStoreDrivers } from '../support/sql-stores.ts';

// The readiness verdicts the bot stores (migration 7), on SQLite and on a real PostgreSQL: one
// replica of two claims a repository's read, a push makes it stale, a save keeps the verdict, its
// commit and ETag, a move to a commit that touches none of its files keeps the verdict; and the dashboard's on-call page shows the stored verdict with its five gates.

const drivers = sqlStoreDrivers();

const SHA = 'd'.repeat(40);
const verdict = assessReadiness(repoFiles('.'), 'examples/error-budget.yml', FLEET_AT);

describe.each(drivers)('readiness verdicts in the %s store', (kind, open) => {
  let store: SqlWatchStore;
  const repo = repoName(0);
  beforeAll(async () => {
    store = await open(`readiness_${kind.toLowerCase()}`);
    await fillSqlStore(store, 1);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('claims a read once, saves the verdict, and a push makes it stale', async () => {
    const t = FLEET_AT;
    expect(await store.readiness.get(repo)).toBeNull();
    expect(await store.readiness.claim(repo, t, 60_000)).toBe(true);
    expect(await store.readiness.claim(repo, t + 1, 60_000)).toBe(false);
    await store.readiness.save(repo, JSON.stringify(verdict), SHA, 'W/"h"', t);
    expect(await store.readiness.get(repo)).toEqual({
      repo,
      verdict: JSON.stringify(verdict),
      computed_at: t,
      commit_sha: SHA,
      head_etag: 'W/"h"',
      stale: false,
      checked_at: t,
      claimed_until: null,
      error: null,
    });
    expect(await store.readiness.pushed(repo)).toBe(true);
    expect(await store.readiness.pushed('acme/unknown')).toBe(false);
    expect(await store.readiness.claim(repo, t + 2, 60_000)).toBe(true);
    await store.readiness.checked(repo, 'W/"h"', t + 3, 'GitHub refused: 403');
    expect(await store.readiness.get(repo)).toMatchObject({
      verdict: JSON.stringify(verdict),
      commit_sha: SHA,
      stale: false,
      checked_at: t + 3,
      error: 'GitHub refused: 403',
    });
    await store.readiness.moved(repo, 'e'.repeat(40), 'W/"h2"', t + 4);
    expect(await store.readiness.get(repo)).toMatchObject({
      verdict: JSON.stringify(verdict),
      computed_at: t,
      commit_sha: 'e'.repeat(40),
      head_etag: 'W/"h2"',
      checked_at: t + 4,
      error: null,
    });
    expect((await store.readiness.all()).map((r) => r.repo)).toEqual([repo]);
  });

  it("shows the stored verdict with its five gates on the dashboard's on-call page", async () => {
    const dash = new SqlDashboardStore(store, {
      policyPath: '.github/error-budget.yml',
      clock: () => FLEET_AT,
    });
    const view = await dash.oncall(repo);
    expect(view?.readiness).toEqual(verdict);
    const page = String(
      oncallPage({ base: '/dashboard', viewer: null, capabilities: dash.capabilities }, repo, view!),
    );
    expect(page).not.toContain('No readiness verdict stored');
    expect(page).toContain(`data-verdict="${verdict.verdict}"`);
    expect(verdict.gates).toHaveLength(5);
    for (const g of verdict.gates) expect(page).toContain(g.title);
  });
});
