import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/open.ts';
import { type RunningPostgres, startPostgres } from '../../support/postgres.ts';
import { tempDir } from '../../support/tasks.ts';
import { DEPLOYMENT_ID, scenarioTasks, writeScenario } from '../support.ts';
import { type BotProcess, startBot, until } from './bot-process.ts';
import { startFakeApp } from './fake-app.ts';
import { cleanup, revertRequest, revertRun, seedBreach } from './matrix.ts';

// Two replicas on one real PostgreSQL, both running from the start. Whichever leases the breached
// watch opens the revert and is SIGKILLed mid-way (the local GitHub tells the replicas apart by
// their User-Agent); the other, a different replica, waits out the dead one's lease and finishes.
// Kill points: the first request, the one that opens the pull request, and the last.

let pg: RunningPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

const telemetry = writeScenario(scenarioTasks(0.005, 0.005));

async function replicaRun(db: string, killAt: number) {
  const url = await pg.createDatabase(db);
  const app = await startFakeApp();
  const store = await openStore(url, '/');
  const bots = new Map<string, BotProcess>();
  try {
    await seedBreach(store);
    let count = 0;
    let victim: string | null = null;
    app.gh.intercept((r) => {
      if (!revertRequest(r.path) || victim) return 'answer';
      if (++count !== killAt) return 'answer';
      victim = /budget-gate \(([^)]+)\)/.exec(String(r.headers['user-agent']))![1]!;
      process.kill(bots.get(victim)!.pid, 'SIGKILL');
      return 'hold';
    });
    for (const replica of ['replica-a', 'replica-b']) {
      const env = {
        githubUrl: app.gh.url,
        store: url,
        telemetry,
        replica,
        cwd: tempDir(),
      };
      bots.set(replica, startBot(env));
    }
    const all = [...bots.values()];
    const watch = await until(
      'the surviving replica to finish the revert',
      async () => {
        const w = await store.get(DEPLOYMENT_ID);
        return w && w.status !== 'reverting' ? w : null;
      },
      all,
    );
    expect(victim).not.toBeNull();
    expect(await bots.get(victim!)!.exited).toBe('SIGKILL');
    const survivor = [...bots.keys()].find((r) => r !== victim)!;
    expect(await bots.get(survivor)!.stop()).toBe(0);
    return { snapshot: app.snapshot(), watch, victim: victim!, survivor };
  } finally {
    await cleanup([...bots.values()], store, app);
  }
}

describe('two replicas on PostgreSQL, one killed mid-revert', () => {
  it('the other finishes the revert, exactly once', async () => {
    let n = 0;
    const baseline = await revertRun(await pg.createDatabase(`base_${n++}`), null);
    const openPr = baseline.paths.indexOf('POST /repos/Codertocat/Hello-World/pulls') + 1;
    expect(openPr).toBeGreaterThan(1);
    for (const k of [1, openPr, baseline.requests]) {
      const run = await replicaRun(`replicas_${n++}`, k);
      expect(run.snapshot, `killed after request ${k}`).toEqual(baseline.snapshot);
      // The lease moved: the watch ended under the replica that did not die.
      expect(run.watch).toMatchObject({ status: 'reverted', revert_pr: 99, lease_owner: null });
      expect(run.watch.revert_attempts).toBe(2);
    }
  }, 300_000);
});
