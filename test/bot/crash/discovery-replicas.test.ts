import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISCOVERY_LEASE } from '../../../src/bot/discover.ts';
import { openStore } from '../../../src/store/open.ts';
import type { Recorded } from '../../support/github-server.ts';
import { type RunningPostgres, startPostgres } from '../../support/postgres.ts';
import { steadyTasks, tempDir, writeTasks } from '../../support/tasks.ts';
import { type BotProcess, startBot, until } from './bot-process.ts';
import { startFakeApp } from './fake-app.ts';
import { cleanup } from './matrix.ts';

// Repository discovery across replicas, in real bot processes on one store (a real PostgreSQL, and
// one SQLite file two processes share): every replica asks each tick (1s) whether discovery is due
// (every 4s), and one runs it per interval. The replica in the middle of a discovery run is then
// SIGKILLed at its first installation's repository list, its request never answered; the other
// runs discovery once the dead one's lease (3s) has run out, and not before. (How soon after is
// test/bot/discovery-lease.test.ts's, on a test clock: here the machine's load decides.)

const EVERY = 4_000;
const LEASE = 3_000;
const TICK = 1_000;

let pg: RunningPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

const replicaOf = (r: Recorded) =>
  /budget-gate \(([^)]+)\)/.exec(String(r.headers['user-agent']))?.[1] ?? '?';
/** Discovery's own requests carry `page=` (it reads every page); the start-up scan's do not. */
const isDiscovery = (r: Recorded, path: string) => r.path === path && /[?&]page=/.test(r.query);

describe.each(['postgres', 'sqlite'])('discovery across two replicas on %s', (kind) => {
  it("runs on one replica per interval, and a dead replica's run moves to the other once its lease runs out", async () => {
    const app = await startFakeApp();
    const spec =
      kind === 'postgres'
        ? await pg.createDatabase('discovery_replicas')
        : `sqlite:${tempDir('bg-disc-')}/s.sqlite`;
    const store = await openStore(spec, '/');
    const bots = new Map<string, BotProcess>();
    try {
      const gh = app.gh;
      const times = new WeakMap<Recorded, number>();
      gh.route('GET', '/app/installations', [200, [{ id: 1 }, { id: 2 }]]);
      gh.route('GET', '/installation/repositories', (r) => {
        const id = /ghs_installation_(\d+)/.exec(String(r.headers.authorization))?.[1];
        return [
          200,
          {
            total_count: 1,
            repositories: [{ name: `agents-${id}`, owner: { login: 'acme' }, default_branch: 'main' }],
          },
        ];
      });
      // No policy anywhere: the evaluator has nothing to read from telemetry.
      gh.route('GET', '/repos/:owner/:repo/contents/:path', [404, { message: 'Not Found' }]);
      let armed = false;
      let victim: string | null = null;
      let killedAt = 0;
      gh.intercept((r) => {
        times.set(r, Date.now());
        if (!armed || victim || !isDiscovery(r, '/installation/repositories')) return 'answer';
        victim = replicaOf(r);
        killedAt = Date.now();
        process.kill(bots.get(victim)!.pid, 'SIGKILL');
        return 'hold';
      });
      const telemetry = writeTasks(
        tempDir('bg-disc-t-'),
        'tasks.jsonl',
        steadyTasks(Date.now() - 3_600_000, Date.now() + 600_000, 60, () => 0.005),
      );
      for (const replica of ['replica-a', 'replica-b']) {
        bots.set(
          replica,
          startBot({
            githubUrl: gh.url,
            store: spec,
            telemetry,
            replica,
            cwd: tempDir('bg-disc-c-'),
            extra: {
              BUDGET_GATE_TICK: `${TICK / 1000}s`,
              BUDGET_GATE_LEASE: `${LEASE / 1000}s`,
              BUDGET_GATE_DISCOVER_EVERY: `${EVERY / 1000}s`,
            },
          }),
        );
      }
      const all = [...bots.values()];
      const runs = () => gh.requests.filter((r) => isDiscovery(r, '/app/installations'));

      // Four runs: each by one replica, each at least an interval after the one before.
      await until('four discovery runs', async () => runs().length >= 4, all, 60_000);
      const first = runs().slice(0, 4);
      const starts = first.map((r) => times.get(r)!);
      for (let i = 1; i < starts.length; i++) {
        expect(starts[i]! - starts[i - 1]!, `run ${i + 1} after run ${i}`).toBeGreaterThanOrEqual(EVERY - 50);
      }
      // Each run listed both installations, under the replica that started it, before the next
      // run began: never two runs at once.
      for (let i = 0; i + 1 < first.length; i++) {
        const from = gh.requests.indexOf(first[i]!);
        const to = gh.requests.indexOf(first[i + 1]!);
        const lists = gh.requests.slice(from, to).filter((r) => isDiscovery(r, '/installation/repositories'));
        expect(lists.map(replicaOf)).toEqual([replicaOf(first[i]!), replicaOf(first[i]!)]);
      }
      expect((await store.service.list()).map((r) => [r.full_name, r.active])).toEqual([
        ['acme/agents-1', true],
        ['acme/agents-2', true],
      ]);

      // The next run's replica dies in the middle of it, holding the discovery lease.
      armed = true;
      await until('a replica killed mid-discovery', async () => victim, all, 30_000);
      expect(await bots.get(victim!)!.exited).toBe('SIGKILL');
      const held = (await store.leases.get(DISCOVERY_LEASE))!;
      expect(held.lease_owner).toBe(victim);
      const survivor = [...bots.keys()].find((r) => r !== victim)!;
      const takeover = await until(
        "the survivor's discovery",
        async () => runs().find((r) => times.get(r)! > killedAt),
        all,
        30_000,
      );
      expect(replicaOf(takeover)).toBe(survivor);
      // Not while the dead replica's lease held: the first run after the kill began once it ran out.
      expect(times.get(takeover)!).toBeGreaterThan(held.lease_until!);
      await until(
        'the run completed under the survivor',
        async () => (await store.leases.get(DISCOVERY_LEASE))?.last_owner === survivor,
        all,
        30_000,
      );
      expect(await bots.get(survivor)!.stop()).toBe(0);
      // A clean stop hands the lease back.
      expect(await store.leases.get(DISCOVERY_LEASE)).toMatchObject({ lease_owner: null });
    } finally {
      await cleanup([...bots.values()], store, app);
    }
  }, 120_000);
});
