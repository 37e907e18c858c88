import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/open.ts';
import { startLivePrometheus } from '../../support/live-prometheus.ts';
import { type RunningPostgres, startPostgres } from '../../support/postgres.ts';
import { countingProxy } from '../../support/prometheus.ts';
import { tempDir } from '../../support/tasks.ts';
import { type BotProcess, startBot, until } from './bot-process.ts';
import { startFakeApp } from './fake-app.ts';
import { cleanup } from './matrix.ts';

// Two replicas of the always-on service on one real PostgreSQL and one real Prometheus (the
// agents' counter scraped live on six backfilled hours, 0.5% failing), 20 installed repositories.
// The replica that reads the third policy of the first round is SIGKILLed at that moment (the
// local GitHub tells replicas apart by their User-Agent) and its request is never answered: it
// dies in the middle of an evaluation round, holding leases. The other replica takes those
// repositories once the dead one's lease (3s) runs out and evaluates every one of them, each
// evaluation one query of Prometheus.

const POLICY = readFileSync(
  join(import.meta.dirname, '../../fixtures/bot/service-incident-policy.yml'),
  'utf8',
);
const REPOS = Array.from({ length: 20 }, (_, i) => `agents-${String(i).padStart(2, '0')}`);

let pg: RunningPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

describe('two replicas of the always-on service, one killed mid-round', () => {
  it("the survivor evaluates the dead replica's repositories within one lease", async () => {
    const telemetry = await startLivePrometheus({
      perMinute: 60,
      historyMs: 6 * 3_600_000,
      failing: () => 0.005,
      failingNow: 0.005,
    });
    const prom = await countingProxy(telemetry.url);
    const app = await startFakeApp();
    const url = await pg.createDatabase('service_replicas');
    const store = await openStore(url, '/');
    const bots = new Map<string, BotProcess>();
    try {
      const gh = app.gh;
      gh.route('GET', '/app/installations', [200, [{ id: 1 }]]);
      gh.route('GET', '/installation/repositories', [
        200,
        {
          total_count: REPOS.length,
          repositories: REPOS.map((name) => ({ name, owner: { login: 'acme' }, default_branch: 'main' })),
        },
      ]);
      gh.route('GET', '/repos/:owner/:repo/contents/:path', [
        200,
        { type: 'file', encoding: 'base64', content: Buffer.from(POLICY).toString('base64') },
        { etag: '"v1"' },
      ]);
      let reads = 0;
      let victim: string | null = null;
      gh.intercept((r) => {
        if (!r.path.includes('/contents/') || victim) return 'answer';
        if (++reads !== 3) return 'answer';
        victim = /budget-gate \(([^)]+)\)/.exec(String(r.headers['user-agent']))![1]!;
        process.kill(bots.get(victim)!.pid, 'SIGKILL');
        return 'hold';
      });
      for (const replica of ['replica-a', 'replica-b']) {
        bots.set(
          replica,
          startBot({
            githubUrl: gh.url,
            store: url,
            telemetry: { prometheus: prom.url },
            replica,
            cwd: tempDir('bg-replicas-'),
            extra: { BUDGET_GATE_EVALUATE_TICK: '1s', BUDGET_GATE_EVALUATION_FLOOR: '10s' },
          }),
        );
      }
      const all = [...bots.values()];
      await until('a replica killed mid-round', async () => victim, all, 60_000);
      expect(await bots.get(victim!)!.exited).toBe('SIGKILL');
      const survivor = [...bots.keys()].find((r) => r !== victim)!;
      const killedAt = Date.now();
      // It died holding leases (they run 3s): those repositories are the ones that must move.
      const held = (await store.service.list()).filter((r) => r.lease_owner === victim);
      expect(held.length).toBeGreaterThan(0);

      // Every repository evaluated, each by the survivor after the kill (its history's last row).
      const rows = await until(
        'every repository evaluated by the survivor',
        async () => {
          const repos = await store.service.list();
          const last = await Promise.all(
            repos.map(async (r) => (await store.service.history(r.full_name, 'minute', 0)).at(-1)),
          );
          return repos.length === REPOS.length &&
            last.every((h) => h && h.replica === survivor && h.at >= killedAt)
            ? repos
            : null;
        },
        all,
        60_000,
      );
      // The dead replica's leases were respected, not stolen: each repository it held was evaluated
      // by the survivor only once that lease had run out. (How soon after is the lease unit test's
      // job, on a test clock: this machine's speed is not a property of the bot.)
      for (const h of held) {
        const after = (await store.service.history(h.full_name, 'minute', killedAt)).filter(
          (e) => e.replica === survivor,
        );
        expect(after.length).toBeGreaterThan(0);
        expect(Math.min(...after.map((e) => e.at))).toBeGreaterThanOrEqual(h.lease_until!);
      }
      expect(rows.every((r) => r.lease_owner === null || r.lease_owner === survivor)).toBe(true);
      expect(rows.every((r) => r.last_error === null && r.policy_etag === '"v1"')).toBe(true);
      // Each evaluation read Prometheus: the burn it stored is the steady 0.5% (0.5x the budget's rate).
      for (const r of rows) {
        const last = (await store.service.history(r.full_name, 'minute', 0)).at(-1)!;
        expect(last.error).toBeNull();
        expect(last.slos[0]!.burn_rates['1h']).toBeCloseTo(0.5, 1);
      }
      const queries = prom.seen.filter((q) => q === 'POST /api/v1/query').length;
      expect(queries).toBeGreaterThanOrEqual(REPOS.length);
      expect(await bots.get(survivor)!.stop()).toBe(0);
    } finally {
      await cleanup([...bots.values()], store, app);
      await prom.close();
      await telemetry.stop();
    }
  }, 180_000);
});
