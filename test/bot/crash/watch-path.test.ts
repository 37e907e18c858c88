import { describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/open.ts';
import { freePort } from '../../support/ports.ts';
import { steadyTasks, tempDir, writeTasks } from '../../support/tasks.ts';
import { DEPLOYMENT_ID, deploymentStatusPayload, MIN } from '../support.ts';
import { type BotProcess, listening, startBot, until } from './bot-process.ts';
import { startFakeApp } from './fake-app.ts';
import { cleanup } from './matrix.ts';

// The watch path across a crash: GitHub delivers deployment_status, and the bot is SIGKILLed after
// the k-th GitHub request its handler makes, before the watch is stored, for every k. GitHub then
// holds a failed delivery and nothing else. The restarted bot lists its App's deliveries, asks for
// the failed one again, records the watch, judges it against real telemetry (a JSONL file where the
// deploy fails 30% of tasks) and reverts it: one watch, one revert, as without the crash.

const deployedAt = Math.floor(Date.now() / MIN) * MIN - 5 * MIN;
const tasksFile = writeTasks(
  tempDir('bg-watch-'),
  'tasks.jsonl',
  steadyTasks(deployedAt - 6 * 60 * MIN, deployedAt + 60 * MIN, 100, (t) => (t > deployedAt ? 0.3 : 0.005)),
);

async function watchRun(killAt: number | null) {
  const app = await startFakeApp();
  const spec = `sqlite:${tempDir('bg-watch-')}/watches.sqlite`;
  const store = await openStore(spec, '/');
  const bots: BotProcess[] = [];
  try {
    const port = await freePort();
    app.webhookUrl = `http://127.0.0.1:${port}/api/github/webhooks`;
    const env = {
      githubUrl: app.gh.url,
      port,
      store: spec,
      telemetry: tasksFile,
      replica: 'host-1',
      cwd: tempDir(),
      extra: { BUDGET_GATE_RECOVER_EVERY: '2s' },
    };
    let delivering = false;
    let handlerRequests = 0;
    app.gh.intercept((r) => {
      // The bot's own start-up work (recovery, the look for unanswered protection rules) is not the handler's.
      if (
        !delivering ||
        r.path.startsWith('/app/hook/') ||
        r.path === '/app' ||
        r.path === '/app/installations'
      )
        return 'answer';
      if (++handlerRequests !== killAt) return 'answer';
      process.kill(bots[0]!.pid, 'SIGKILL');
      return 'hold';
    });
    bots.push(startBot(env));
    await listening(bots[0]!);
    delivering = true;
    const code = await app.deliver('deployment_status', deploymentStatusPayload({ at: deployedAt }));
    delivering = false;
    if (killAt !== null) {
      expect(code).toBe(0);
      expect(await bots[0]!.exited).toBe('SIGKILL');
      expect(await store.get(DEPLOYMENT_ID)).toBeNull();
      bots.push(startBot(env));
    } else {
      expect(code).toBe(200);
    }
    const watch = await until(
      'the watch to be recorded and reverted',
      async () => {
        const w = await store.get(DEPLOYMENT_ID);
        return w && w.status === 'reverted' ? w : null;
      },
      bots,
    );
    expect(await bots.at(-1)!.stop()).toBe(0);
    return {
      app,
      watch,
      handlerRequests,
      snapshot: app.snapshot() as Record<string, any[]>,
      all: await store.list(),
    };
  } finally {
    await cleanup(bots, store, app);
  }
}

/** What must match an uninterrupted run; the evidence's numbers depend on when the tick ran. */
const shape = (s: Record<string, any[]>) => ({
  refs: s.refs!.map(([ref]) => ref),
  pulls: s.pulls!.map(({ body: _, ...p }) => p),
  statuses: s.statuses!.map((x) => ({ state: x.state, log_url: x.log_url })),
  comments: s.comments!.length,
});

const WATCH_FIELDS = [
  'deployment_id',
  'sha',
  'previous_sha',
  'previous_deployment_id',
  'pull_number',
  'deployed_at',
  'policy_text',
] as const;

describe('watch path across a crash', () => {
  it('a deployment_status whose handler was killed at any request is recovered from GitHub and watched once', async () => {
    const baseline = await watchRun(null);
    expect(baseline.app.deliveries.map((d) => [d.status_code, d.redelivery])).toEqual([[200, false]]);
    const n = baseline.handlerRequests;
    expect(n).toBeGreaterThanOrEqual(4);
    expect(shape(baseline.snapshot)).toMatchObject({
      refs: [`refs/heads/budget-gate/revert-${DEPLOYMENT_ID}`],
      pulls: [{ number: 99, labels: ['budget-gate', 'revert'], auto_merge: true }],
      statuses: [{ state: 'failure' }],
      comments: 1,
    });
    for (let k = 1; k <= n; k++) {
      const run = await watchRun(k);
      expect(run.all, `k=${k}`).toHaveLength(1);
      const pick = (w: typeof run.watch) => Object.fromEntries(WATCH_FIELDS.map((f) => [f, w[f]]));
      expect(pick(run.watch), `k=${k}`).toEqual(pick(baseline.watch));
      expect(shape(run.snapshot), `killed after handler request ${k} of ${n}`).toEqual(
        shape(baseline.snapshot),
      );
      // The first delivery failed; the restarted bot asked for it again, and that one was taken
      // (asked twice, by a later recovery racing the first redelivery, it is still one watch).
      const first = run.app.deliveries[0]!;
      expect(first).toMatchObject({ status_code: 0, redelivery: false });
      const taken = run.app.deliveries.filter((d) => d.status_code === 200);
      expect(taken.length).toBeGreaterThanOrEqual(1);
      for (const d of taken) expect(d).toMatchObject({ guid: first.guid, redelivery: true });
    }
  }, 300_000);
});
