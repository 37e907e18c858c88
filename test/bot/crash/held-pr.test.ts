import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/open.ts';
import { startLivePrometheus } from '../../support/live-prometheus.ts';
import { type RunningPostgres, startPostgres } from '../../support/postgres.ts';
import { countingProxy } from '../../support/prometheus.ts';
import { tempDir } from '../../support/tasks.ts';
import { fastClock } from '../../support/test-clock.ts';
import { type BotProcess, startBot, until } from './bot-process.ts';
import { startFakeApp } from './fake-app.ts';
import { expectPolicyQueries } from './prometheus-queries.ts';

// Held pull requests re-checked when the state changes, in a real bot process on a real PostgreSQL
// and a real Prometheus. The repository has used 61% of its 7-day budget (a 10% burn earlier
// today, scraped and backfilled as the agents' task counter) but the last minute is clean: SHIP,
// and pull request #7's gate check failed (an earlier pause), #8's passed. A burn starts: within
// seconds the last minute burns faster than the budget allows and the state is SOFT-PAUSE, so the
// bot re-runs #8's passed gate job through the Actions API (the re-run, made under the pause,
// fails). The burn stops: a minute later the pause lifts, and the bot re-runs both failed gate
// jobs (#7's and #8's new one), once each, and leaves another app's failed check alone. The bot
// and the agents share a clock that runs four times as fast once Prometheus is up
// (test/support/test-clock.ts): the minute the last-minute window takes to clear passes in 15 s.

const POLICY = readFileSync(join(import.meta.dirname, '../../fixtures/bot/service-held-policy.yml'), 'utf8');
const MIN = 60_000;
const REPO = 'Codertocat/Hello-World';
const SHA7 = '7'.repeat(40);
const SHA8 = '8'.repeat(40);

let pg: RunningPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

const run = (id: number, conclusion: string, slug = 'github-actions') => ({
  id,
  name: 'gate',
  status: 'completed',
  conclusion,
  app: { id: 15368, slug, name: slug },
});

describe('held pull requests, re-checked when a pause begins and when it lifts', () => {
  it('re-runs the passed gate when SOFT-PAUSE begins and the failed ones when it lifts, and nothing else', async () => {
    const clock = fastClock(4);
    const now = clock.now();
    // 60 tasks a minute: 0.2% failing, 10% from 20 to 5 minutes ago (131 bad of 21,600: 61% of the
    // 216 the 99% target allows), and 0.2% from now on until the test says otherwise.
    const telemetry = await startLivePrometheus({
      perMinute: 60,
      historyMs: 6 * 60 * MIN,
      failing: (t) => (t >= now - 20 * MIN && t < now - 5 * MIN ? 0.1 : 0.002),
      failingNow: 0.002,
      clock: clock.now,
    });
    clock.start();
    const prom = await countingProxy(telemetry.url);
    const app = await startFakeApp();
    const url = await pg.createDatabase('held_pr');
    const store = await openStore(url, '/');
    const bots: BotProcess[] = [];
    try {
      const gh = app.gh;
      gh.route('GET', '/app/installations', [200, [{ id: 1 }]]);
      gh.route('GET', '/installation/repositories', [
        200,
        {
          total_count: 1,
          repositories: [{ name: 'Hello-World', owner: { login: 'Codertocat' }, default_branch: 'master' }],
        },
      ]);
      gh.route('GET', '/repos/:owner/:repo/contents/:path', [
        200,
        { type: 'file', encoding: 'base64', content: Buffer.from(POLICY).toString('base64') },
        { etag: '"v1"' },
      ]);
      gh.route('GET', '/repos/:owner/:repo/pulls', [
        200,
        [
          { number: 7, head: { sha: SHA7 } },
          { number: 8, head: { sha: SHA8 } },
        ],
      ]);
      // Each head's latest gate run; a re-run replaces it with a new run whose conclusion is what
      // the gate decides when it runs: failure under the pause, success once it lifted.
      const gate = new Map([
        [SHA7, run(7001, 'failure')],
        [SHA8, run(8001, 'success')],
      ]);
      let paused = false;
      let nextRun = 9001;
      gh.route('GET', '/repos/:owner/:repo/commits/:sha/check-runs', (r) => {
        const runs = [
          gate.get(r.params.sha!)!,
          ...(r.params.sha === SHA7 ? [run(7002, 'failure', 'other-ci')] : []),
        ];
        return [200, { total_count: runs.length, check_runs: runs }];
      });
      gh.route('POST', '/repos/:owner/:repo/actions/jobs/:id/rerun', (r) => {
        const head = [...gate].find(([, g]) => g.id === Number(r.params.id));
        if (!head) return [404, { message: 'Not Found' }];
        gate.set(head[0], run(nextRun++, paused ? 'failure' : 'success'));
        return [201, {}];
      });
      const bot = startBot({
        githubUrl: gh.url,
        store: url,
        telemetry: { prometheus: prom.url },
        replica: 'held-1',
        cwd: tempDir('bg-held-'),
        extra: {
          BUDGET_GATE_EVALUATE_TICK: '1s',
          BUDGET_GATE_EVALUATION_FLOOR: '10s',
          // Leases in the bot's time: 3 s would be under a second of the wall clock.
          BUDGET_GATE_LEASE: '20s',
          ...clock.env(),
        },
      });
      bots.push(bot);
      const state = async () => (await store.service.get(REPO))?.last_state;
      const reruns = () =>
        gh.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/rerun')).map((r) => r.path);
      const job = (id: number) => `/repos/${REPO}/actions/jobs/${id}/rerun`;

      // Past the soft-pause line, but the last minute burns at 0.2x: SHIP. Nothing to re-check yet.
      await until('SHIP', async () => (await state()) === 'ship', bots, 60_000);
      expect(reruns()).toEqual([]);

      // The burn starts: 20% failing. The last minute's burn passes 1x within seconds: SOFT-PAUSE,
      // and #8's passed gate is re-run (it fails under the pause).
      paused = true;
      telemetry.setFailing(0.2);
      await until('SOFT-PAUSE', async () => (await state()) === 'soft-pause', bots, 60_000);
      await until('the passed gate re-run', async () => reruns().length === 1, bots, 30_000);
      expect(reruns()).toEqual([job(8001)]);
      const soft = (await store.service.history(REPO, 'minute', 0)).findLast(
        (h) => h.state === 'soft-pause',
      )!;
      await expectPolicyQueries(prom, telemetry, soft, ['1m']);
      expect(soft.slos[0]!.consumed).toBeGreaterThan(0.5);
      expect(soft.slos[0]!.burn_rates['1m']).toBeGreaterThan(1);

      // The burn stops. Once the last minute is back under 1x (about a minute) the pause lifts
      // and both failed gates are re-run: #7's from before, #8's from the pause.
      paused = false;
      telemetry.setFailing(0.002);
      await until('SHIP again', async () => (await state()) === 'ship', bots, 150_000);
      await until('the failed gates re-run', async () => reruns().length === 3, bots, 30_000);
      // Another evaluation in SHIP: nothing more.
      const after = (await store.service.get(REPO))!.last_evaluated_at!;
      await until(
        'the next evaluation',
        async () => (await store.service.get(REPO))!.last_evaluated_at! > after,
        bots,
        30_000,
      );
      expect(reruns()).toEqual([job(8001), job(7001), job(9001)]);
      expect(
        gh.requests
          .filter((r) => r.path.endsWith('/pulls') || r.path.includes('/check-runs'))
          .map((r) => `${r.path}${r.path.endsWith('/pulls') ? r.query : ''}`),
      ).toEqual(
        Array.from({ length: 2 }, () => [
          `/repos/${REPO}/pulls?state=open&per_page=100`,
          `/repos/${REPO}/commits/${SHA7}/check-runs`,
          `/repos/${REPO}/commits/${SHA8}/check-runs`,
        ]).flat(),
      );
      expect(gate.get(SHA7)).toMatchObject({ conclusion: 'success' });
      expect(gate.get(SHA8)).toMatchObject({ conclusion: 'success' });

      // What each evaluation cost (docs/bot.md, "What one repository costs"): one request to
      // Prometheus (one more may be in flight as /metrics is read), and nothing from GitHub after
      // the first read of the policy.
      const metrics = await (await fetch(`${bot.url}/metrics`)).text();
      const line = metrics
        .split('\n')
        .find((l) => l.startsWith('budget_gate_evaluations_total{outcome="ok"} '));
      const evaluations = Number(line!.split(' ')[1]);
      expect(evaluations).toBeGreaterThan(5);
      const queries = prom.seen.filter((r) => r === 'POST /api/v1/query').length;
      expect(queries).toBeGreaterThanOrEqual(evaluations);
      expect(queries).toBeLessThanOrEqual(evaluations + 1);
      expect(gh.requests.filter((r) => r.path.includes('/contents/'))).toHaveLength(1);
      expect(await bot.stop()).toBe(0);
    } finally {
      for (const b of bots)
        if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL');
      await Promise.all(bots.map((b) => b.exited));
      await store.close();
      await app.close();
      await prom.close();
      await telemetry.stop();
    }
  }, 360_000);
});
