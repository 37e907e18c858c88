import { describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/open.ts';
import { tempDir } from '../../support/tasks.ts';
import { DEPLOYMENT_ID, scenarioTasks, writeScenario } from '../support.ts';
import { type BotProcess, listening, startBot, until } from './bot-process.ts';
import { startFakeApp } from './fake-app.ts';
import { cleanup, seedBreach } from './matrix.ts';

// Operating the bot: /healthz and /metrics of a real bot process, after it opened a revert through
// a secondary rate limit (GitHub's 403 with Retry-After on the first write), which Probot's Octokit
// now waits out and retries like the Action's.

const value = (text: string, series: string): number | null => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : null;
};

describe('/healthz and /metrics', () => {
  it('report the revert, the GitHub requests and the rate-limit wait; health checks store and telemetry', async () => {
    const app = await startFakeApp();
    const spec = `sqlite:${tempDir('bg-ops-')}/watches.sqlite`;
    const store = await openStore(spec, '/');
    const bots: BotProcess[] = [];
    try {
      await seedBreach(store);
      let trees = 0;
      app.gh.route('POST', '/repos/:owner/:repo/git/trees', () =>
        ++trees === 1
          ? [
              403,
              { message: 'You have exceeded a secondary rate limit. Please wait.' },
              { 'retry-after': '1' },
            ]
          : [201, { sha: 'e'.repeat(40), tree: [] }],
      );
      const telemetry = writeScenario(scenarioTasks(0.005, 0.005));
      const env = {
        githubUrl: app.gh.url,
        store: spec,
        telemetry,
        replica: 'ops-1',
        cwd: tempDir(),
      };
      const bot = startBot(env);
      bots.push(bot);
      await until('the revert', async () => (await store.get(DEPLOYMENT_ID))?.status === 'reverted', bots);
      expect(trees).toBe(2);

      // The tick's metrics are recorded once the tick returns, just after the store write.
      const m = await until(
        'the tick in /metrics',
        async () => {
          const res = await fetch(`${bot.url}/metrics`);
          expect(res.status).toBe(200);
          expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
          const text = await res.text();
          return value(text, 'budget_gate_reverts_opened_total')! >= 1 ? text : null;
        },
        bots,
      );
      expect(value(m, 'budget_gate_reverts_opened_total')).toBe(1);
      expect(value(m, 'budget_gate_reverts_failed_total')).toBe(0);
      expect(value(m, 'budget_gate_github_rate_limit_waits_total{limit="secondary"}')).toBe(1);
      expect(value(m, 'budget_gate_github_rate_limit_wait_seconds_total{limit="secondary"}')).toBe(1);
      expect(value(m, 'budget_gate_github_requests_total{method="POST",status="403"}')).toBe(1);
      expect(
        value(m, 'budget_gate_github_requests_total{method="POST",status="201"}'),
      ).toBeGreaterThanOrEqual(6);
      expect(value(m, 'budget_gate_ticks_total{outcome="ok"}')).toBeGreaterThanOrEqual(1);
      expect(value(m, 'budget_gate_tick_duration_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(value(m, 'budget_gate_telemetry_errors_total')).toBe(0);
      // The webhook guard's counters are exported (the watch was seeded: no delivery came).
      expect(value(m, 'budget_gate_webhook_deliveries{verdict="accepted"}')).toBe(0);
      expect(value(m, 'budget_gate_webhook_deliveries{verdict="bad_signature"}')).toBe(0);
      expect(value(m, 'budget_gate_webhook_unverified_bytes{kind="now"}')).toBe(0);
      expect(m).toMatch(/^# TYPE budget_gate_watches_live gauge$/m);
      expect(m).toMatch(/^# TYPE budget_gate_tick_checks histogram$/m);
      expect(m).toMatch(/^process_resident_memory_bytes \d+/m);

      const health = await fetch(`${bot.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({
        ok: true,
        checks: { store: { ok: true }, telemetry: { ok: true }, github: { ok: true } },
      });
      expect(await bot.stop()).toBe(0);

      // The same bot pointed at a telemetry file that is not there: unhealthy, and says which.
      const missing = `${tempDir()}/gone.jsonl`;
      const sick = startBot({ ...env, telemetry: missing });
      bots.push(sick);
      await listening(sick);
      const bad = await fetch(`${sick.url}/healthz`);
      expect(bad.status).toBe(503);
      const body = (await bad.json()) as { checks: { telemetry: { error: string } } };
      expect(body).toMatchObject({ ok: false, checks: { store: { ok: true }, telemetry: { ok: false } } });
      expect(body.checks.telemetry.error).toContain(missing);
      expect(await sick.stop()).toBe(0);
    } finally {
      await cleanup(bots, store, app);
    }
  }, 60_000);
});
