import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISCOVERY_LEASE, discover } from '../../src/bot/discover.ts';
import { runLeased } from '../../src/bot/leased-task.ts';
import { collectingLog } from '../../src/bot/log.ts';
import type { GitHubClient } from '../../src/github/octokit.ts';
import { PostgresWatchStore } from '../../src/store/postgres.ts';
import type { SqlWatchStore } from '../../src/store/sql.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { type RunningPostgres, startPostgres } from '../support/postgres.ts';
import { tempDir } from '../support/tasks.ts';
import { MIN, T0, testClock } from './support.ts';

// Repository discovery runs on one replica per interval, under a lease in the store (the `leases`
// table, migration 6), on SQLite and on a real PostgreSQL: of the replicas that ask in the same
// tick one runs it; nobody runs it again before the interval is over; a replica that dies mid-run
// loses it to the next one that asks once its lease has run out, and finds out it lost it.

const LEASE = 2 * MIN;
const EVERY = 10 * MIN;

/** GitHub's two discovery endpoints for `installations` installations of two repositories each. */
function fakeGitHub(installations: number, hold?: Promise<void>) {
  const calls: string[] = [];
  const client = (installation: number | null): GitHubClient =>
    ({
      request: async (route: string) => {
        calls.push(installation === null ? route : `${route} (${installation})`);
        if (route === 'GET /app/installations') {
          return { data: Array.from({ length: installations }, (_, i) => ({ id: i + 1 })), headers: {} };
        }
        if (hold) await hold;
        return {
          data: {
            repositories: ['a', 'b'].map((r) => ({
              name: `${r}${installation}`,
              owner: { login: 'acme' },
              default_branch: 'main',
            })),
          },
          headers: {},
        };
      },
    }) as unknown as GitHubClient;
  return { calls, app: client(null), installation: async (id: number) => client(id) };
}

function discoveryOn(store: SqlWatchStore, replica: string, clock: () => number, gh = fakeGitHub(2)) {
  const log = collectingLog();
  const run = () =>
    runLeased(
      {
        leases: store.leases,
        name: DISCOVERY_LEASE,
        replica,
        leaseMs: LEASE,
        everyMs: EVERY,
        clock,
        log,
        renewMs: 5,
      },
      (held) =>
        discover({
          app: gh.app,
          installation: gh.installation,
          sync: (id, repos) => store.service.sync(id, repos, clock()),
          log,
          held,
        }),
    );
  return { run, gh, log };
}

const runs = (calls: string[]) => calls.filter((c) => c === 'GET /app/installations').length;

type Opened = { open(): Promise<SqlWatchStore>; close(): Promise<void> };
let pg: RunningPostgres;
let dbs = 0;
const stores: Record<string, () => Opened> = {
  sqlite: () => {
    const path = `${tempDir('bg-leases-')}/store.sqlite`;
    return { open: async () => new SqliteWatchStore(path), close: async () => {} };
  },
  postgres: () => {
    const url = pg.createDatabase(`leases_${dbs++}`);
    return {
      open: async () => PostgresWatchStore.open({ connectionString: await url }),
      close: async () => {},
    };
  },
};

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

describe.each(Object.keys(stores))('the discovery lease on %s', (kind) => {
  /** Two replicas' stores on one database; `done` closes all three. */
  const twoReplicas = async () => {
    const db = stores[kind]!();
    const [sa, sb] = [await db.open(), await db.open()];
    const done = async () => {
      await Promise.all([sa.close(), sb.close()]);
      await db.close();
    };
    return { sa, sb, done };
  };

  it('one of the replicas asking in the same tick runs discovery, once per interval', async () => {
    const { sa, sb, done } = await twoReplicas();
    const clock = testClock(T0);
    const a = discoveryOn(sa, 'a', clock.now);
    const b = discoveryOn(sb, 'b', clock.now);
    // Every tick (30s) for two intervals, both replicas ask.
    const ran: string[] = [];
    for (let t = T0; t < T0 + 2 * EVERY; t += 30_000) {
      clock.set(t);
      const [ra, rb] = await Promise.all([a.run(), b.run()]);
      if (ra) ran.push(`a@${(t - T0) / MIN}m`);
      if (rb) ran.push(`b@${(t - T0) / MIN}m`);
    }
    // At 0 and 10 minutes: one replica each time, never both.
    expect(ran.map((r) => r.slice(2))).toEqual(['0m', '10m']);
    expect(runs(a.gh.calls) + runs(b.gh.calls)).toBe(2);
    expect((await sa.service.list()).map((r) => r.full_name)).toEqual([
      'acme/a1',
      'acme/a2',
      'acme/b1',
      'acme/b2',
    ]);
    const row = (await sa.leases.get(DISCOVERY_LEASE))!;
    expect(row).toMatchObject({ lease_owner: null, lease_until: null, last_error: null });
    expect(row.next_due_at).toBe(T0 + 10 * MIN + EVERY);
    await done();
  });

  it("a dead replica's discovery is taken over once its lease runs out, and the dead one writes nothing", async () => {
    const { sa, sb, done } = await twoReplicas();
    const clock = testClock(T0);
    // Replica a leases discovery and dies in the middle of it.
    expect(await sa.leases.claim(DISCOVERY_LEASE, 'a', clock.now(), LEASE)).toBe(true);
    const b = discoveryOn(sb, 'b', clock.now);
    expect(await b.run()).toBeNull();
    clock.set(T0 + LEASE);
    expect(await b.run()).toBeNull();
    clock.set(T0 + LEASE + 1);
    expect(await b.run()).toMatchObject({ completed: true, result: { installations: 2, synced: 2 } });
    expect(runs(b.gh.calls)).toBe(1);
    // a comes back from its pause: neither its renewal nor its completion is taken.
    expect(await sa.leases.renew(DISCOVERY_LEASE, 'a', clock.now(), LEASE)).toBe(false);
    expect(await sa.leases.complete(DISCOVERY_LEASE, 'a', clock.now(), clock.now() + EVERY, null)).toBe(
      false,
    );
    expect(await sa.leases.get(DISCOVERY_LEASE)).toMatchObject({
      lease_owner: null,
      last_owner: 'b',
      next_due_at: T0 + LEASE + 1 + EVERY,
    });
    await done();
  });

  it('a run that outlasts its lease without renewing stops before the next installation', async () => {
    const { sa, sb, done } = await twoReplicas();
    const clock = testClock(T0);
    let release!: () => void;
    const gh = fakeGitHub(3, new Promise<void>((r) => (release = r)));
    const a = discoveryOn(sa, 'a', clock.now, gh);
    const running = a.run();
    await expect.poll(() => gh.calls.length).toBe(2);
    // a hangs on its first installation for longer than the lease; b takes discovery over.
    clock.set(T0 + LEASE + 1);
    expect(await sb.leases.claim(DISCOVERY_LEASE, 'b', clock.now(), LEASE)).toBe(true);
    await expect.poll(() => a.log.lines.some((l) => l.includes('lease lost mid-run'))).toBe(true);
    release();
    const r = await running;
    expect(r).toMatchObject({ completed: false, result: { installations: 3, synced: 1, interrupted: true } });
    expect(gh.calls.filter((c) => c.startsWith('GET /installation/repositories'))).toHaveLength(1);
    expect(await sa.leases.get(DISCOVERY_LEASE)).toMatchObject({ lease_owner: 'b', next_due_at: 0 });
    await done();
  });

  it('a clean shutdown hands the lease back: the next replica runs discovery at once', async () => {
    const { sa, sb, done } = await twoReplicas();
    expect(await sa.leases.claim(DISCOVERY_LEASE, 'a', T0, LEASE)).toBe(true);
    await sa.release('a');
    expect(await sb.leases.claim(DISCOVERY_LEASE, 'b', T0 + 1, LEASE)).toBe(true);
    await done();
  });

  it('a failed discovery is tried again after a minute, not a whole interval, and says why', async () => {
    const db = stores[kind]!();
    const store = await db.open();
    const failing = {
      calls: [],
      app: {
        request: async () => {
          throw new Error('GitHub answered 502');
        },
      } as unknown as GitHubClient,
      installation: async () => failing.app,
    };
    const a = discoveryOn(store, 'a', () => T0, failing as unknown as ReturnType<typeof fakeGitHub>);
    await expect(a.run()).rejects.toThrow('GitHub answered 502');
    expect(await store.leases.get(DISCOVERY_LEASE)).toMatchObject({
      lease_owner: null,
      next_due_at: T0 + MIN,
      last_error: 'GitHub answered 502',
    });
    await store.close();
    await db.close();
  });
});

describe('the discovery lease on PostgreSQL, many replicas at once', () => {
  it('eight replicas claiming at the same instant: exactly one gets it, every time', async () => {
    const url = await pg.createDatabase('leases_many');
    const all = await Promise.all(
      Array.from({ length: 8 }, () => PostgresWatchStore.open({ connectionString: url, max: 2 })),
    );
    for (let round = 0; round < 10; round++) {
      const at = T0 + round * EVERY;
      const won = await Promise.all(all.map((s, i) => s.leases.claim(DISCOVERY_LEASE, `r${i}`, at, LEASE)));
      expect(won.filter(Boolean)).toHaveLength(1);
      const winner = won.indexOf(true);
      expect(await all[winner]!.leases.complete(DISCOVERY_LEASE, `r${winner}`, at, at + EVERY, null)).toBe(
        true,
      );
    }
    await Promise.all(all.map((s) => s.close()));
  }, 60_000);
});
