import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/open.ts';
import { freePort } from '../../support/ports.ts';
import { steadyTasks, tempDir } from '../../support/tasks.ts';
import { type BotProcess, startBot, until } from './bot-process.ts';
import { startFakeApp } from './fake-app.ts';

// A held pull request re-checked when the pause lifts, in a real bot process: the repository is in
// HARD-PAUSE (a burn well past its budget), pull request #7's gate check failed. The telemetry then
// shows a clean week; at the next evaluation the state is SHIP and the bot re-runs #7's gate job
// through the Actions API, once, and leaves #8 (whose gate passed) and another app's check alone.

const POLICY = readFileSync(
  join(import.meta.dirname, '../../fixtures/bot/service-incident-policy.yml'),
  'utf8',
);
const MIN = 60_000;

function writeTelemetry(path: string, now: number, failing: number) {
  const tasks = steadyTasks(now - 6 * 60 * MIN, now + 10 * MIN, 60, () => failing);
  writeFileSync(`${path}.tmp`, `${tasks.map((t) => JSON.stringify(t)).join('\n')}\n`);
  renameSync(`${path}.tmp`, path);
}

const run = (id: number, conclusion: string, slug = 'github-actions') => ({
  id,
  name: 'gate',
  status: 'completed',
  conclusion,
  app: { id: 15368, slug, name: slug },
});

describe('a held pull request, re-checked when the pause lifts', () => {
  it('re-runs the failed gate job once the state is SHIP again, and nothing else', async () => {
    const app = await startFakeApp();
    const spec = `sqlite:${tempDir('bg-held-')}/service.sqlite`;
    const store = await openStore(spec, '/');
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
          { number: 7, head: { sha: '7'.repeat(40) } },
          { number: 8, head: { sha: '8'.repeat(40) } },
        ],
      ]);
      gh.route('GET', '/repos/:owner/:repo/commits/:sha/check-runs', (r) => [
        200,
        r.params.sha === '7'.repeat(40)
          ? { total_count: 2, check_runs: [run(7001, 'failure'), run(7002, 'failure', 'other-ci')] }
          : { total_count: 1, check_runs: [run(8001, 'success')] },
      ]);
      gh.route('POST', '/repos/:owner/:repo/actions/jobs/:id/rerun', [201, {}]);
      const now = Date.now();
      const telemetry = join(tempDir('bg-held-t-'), 'tasks.jsonl');
      writeTelemetry(telemetry, now, 0.5);
      const bot = startBot({
        githubUrl: gh.url,
        port: await freePort(),
        store: spec,
        telemetry,
        replica: 'held-1',
        cwd: tempDir(),
        extra: { BUDGET_GATE_EVALUATE_TICK: '1s', BUDGET_GATE_EVALUATION_FLOOR: '10s' },
      });
      bots.push(bot);
      await until(
        'the hard pause',
        async () => (await store.service.get('Codertocat/Hello-World'))?.last_state === 'hard-pause',
        bots,
        60_000,
      );
      const reruns = () => gh.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/rerun'));
      expect(reruns()).toEqual([]);

      writeTelemetry(telemetry, now, 0);
      await until(
        'SHIP again',
        async () => (await store.service.get('Codertocat/Hello-World'))?.last_state === 'ship',
        bots,
        60_000,
      );
      await until('the re-run', async () => reruns().length > 0, bots, 30_000);
      // Another evaluation in SHIP: nothing more.
      const after = (await store.service.get('Codertocat/Hello-World'))!.last_evaluated_at!;
      await until(
        'the next evaluation',
        async () => (await store.service.get('Codertocat/Hello-World'))!.last_evaluated_at! > after,
        bots,
        30_000,
      );
      expect(reruns().map((r) => r.path)).toEqual(['/repos/Codertocat/Hello-World/actions/jobs/7001/rerun']);
      expect(
        gh.requests
          .filter((r) => r.path.endsWith('/pulls') || r.path.includes('/check-runs'))
          .map((r) => r.path),
      ).toEqual([
        '/repos/Codertocat/Hello-World/pulls',
        `/repos/Codertocat/Hello-World/commits/${'7'.repeat(40)}/check-runs`,
        `/repos/Codertocat/Hello-World/commits/${'8'.repeat(40)}/check-runs`,
      ]);
      expect(await bot.stop()).toBe(0);
    } finally {
      for (const b of bots)
        if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL');
      await Promise.all(bots.map((b) => b.exited));
      await store.close();
      await app.close();
    }
  }, 180_000);
});
