import { expect } from 'vitest';
import type { Watch, WatchStore } from '../../../src/policy/canary/ports.ts';
import { openStore } from '../../../src/store/open.ts';
import { tempDir } from '../../support/tasks.ts';
import {
  DEPLOYMENT_ID,
  MIN,
  newWatch,
  recordedEvidence,
  scenarioTasks,
  T0,
  writeScenario,
} from '../support.ts';
import { type BotProcess, startBot, until } from './bot-process.ts';
import { type FakeApp, startFakeApp } from './fake-app.ts';

// One revert, run by a real bot process against the local GitHub, from a store where the breach
// is already recorded (the watcher writes the evidence before it opens the revert, so every
// request of the revert comes after it). With `killAt: k` the GitHub server SIGKILLs the bot right
// after acting on its k-th request and before answering it; a second process (same replica name:
// the same host restarted) then finishes. The end state on GitHub is returned for comparison.

export const EVIDENCE = recordedEvidence({
  message: 'tasks-success: this deployment burned 25.0% of the 7d error budget beyond its baseline in 20m',
  runbook: { alert: 'fast-burn', url: 'https://runbooks.example.com/agents/fast-burn' },
});

/** A breach recorded by a replica that then vanished: `reverting`, evidence stored, no lease. */
export async function seedBreach(store: WatchStore): Promise<void> {
  const now = Date.now();
  await store.add(newWatch(DEPLOYMENT_ID, T0), now);
  await store.claim('seeder', now, 10 * MIN, 10);
  expect(await store.startRevert(DEPLOYMENT_ID, 'seeder', now, JSON.stringify(EVIDENCE))).toBe(true);
  await store.release('seeder');
}

/** Requests that belong to the revert: the installation token and the repository's API. */
// What the bot asks GitHub for besides the revert, and not at a fixed point of it: the recovery of
// missed deliveries, and the start-up scan for unanswered protection rules (with the installation
// token both share with the revert). Kill points count the revert's own requests only, so the k-th
// is always the reverting replica's.
const NOT_THE_REVERT =
  /^\/app(\/hook\/.*|\/installations(\/\d+\/access_tokens)?)?$|^\/installation\/repositories$|\/actions\/runs(\/|$)/;

export const revertRequest = (path: string) => !NOT_THE_REVERT.test(path.split('?')[0]!);

export interface RunResult {
  snapshot: unknown;
  requests: number;
  /** `METHOD /path` of each request counted, in order. */
  paths: string[];
  watch: Watch;
  killed: boolean;
}

const telemetry = writeScenario(scenarioTasks(0.005, 0.005));

export async function revertRun(storeSpec: string, killAt: number | null): Promise<RunResult> {
  const app: FakeApp = await startFakeApp();
  const store = await openStore(storeSpec, '/');
  const bots: BotProcess[] = [];
  try {
    await seedBreach(store);
    const cwd = tempDir('bg-crash-');
    const env = { githubUrl: app.gh.url, store: storeSpec, telemetry, replica: 'host-1', cwd };
    let count = 0;
    let killed = false;
    const paths: string[] = [];
    app.gh.intercept((r) => {
      if (!revertRequest(r.path)) return 'answer';
      count++;
      paths.push(`${r.method} ${r.path}`);
      if (count !== killAt) return 'answer';
      process.kill(bots[0]!.pid, 'SIGKILL');
      killed = true;
      return 'hold';
    });
    bots.push(startBot(env));
    if (killAt !== null) {
      expect(await bots[0]!.exited).toBe('SIGKILL');
      app.gh.intercept(null);
      bots.push(startBot(env));
    }
    const watch = await until(
      'the revert to finish',
      async () => {
        const w = await store.get(DEPLOYMENT_ID);
        return w && w.status !== 'reverting' ? w : null;
      },
      bots,
    );
    expect(await bots.at(-1)!.stop()).toBe(0);
    return { snapshot: app.snapshot(), requests: count, paths, watch, killed };
  } finally {
    await cleanup(bots, store, app);
  }
}

export async function cleanup(bots: BotProcess[], store: WatchStore, app: FakeApp): Promise<void> {
  for (const b of bots) if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL');
  await Promise.all(bots.map((b) => b.exited));
  await store.close();
  await app.close();
}

/**
 * Kill points one after another by default: each starts two bot processes, and a loaded 2-core
 * machine starves several at once past their timeouts. BUDGET_GATE_CRASH_AT_ONCE=n runs n at once.
 */
const KILL_POINTS_AT_ONCE = Number(process.env.BUDGET_GATE_CRASH_AT_ONCE) || 1;

/** `run(1)` … `run(n)`, at most `width` at a time; the first failure fails the whole. */
async function eachAtOnce(width: number, n: number, run: (k: number) => Promise<void>): Promise<void> {
  let next = 1;
  const lane = async () => {
    while (next <= n) await run(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, lane));
}

/** The baseline, then every k: same end state on GitHub, the watch `reverted` with the same PR. */
export async function expectCrashMatrix(newStore: () => Promise<string>): Promise<void> {
  const t0 = performance.now();
  const baseline = await revertRun(await newStore(), null);
  expect(baseline.watch).toMatchObject({ status: 'reverted', revert_pr: 99, revert_attempts: 1 });
  expect(baseline.snapshot).toMatchObject({
    refs: [[`refs/heads/budget-gate/revert-${DEPLOYMENT_ID}`, expect.any(String)]],
    pulls: [
      {
        number: 99,
        head: `budget-gate/revert-${DEPLOYMENT_ID}`,
        body: expect.stringContaining(EVIDENCE.message),
        labels: ['budget-gate', 'revert'],
        reviewers: ['oncall-sre'],
        team_reviewers: ['sre'],
        auto_merge: true,
        draft: false,
      },
    ],
    statuses: [{ state: 'failure', log_url: 'https://github.com/Codertocat/Hello-World/pull/99' }],
    comments: [expect.stringContaining('budget-gate is reverting this change')],
  });
  const n = baseline.requests;
  expect(n).toBeGreaterThanOrEqual(10);
  // The kill points are independent runs (a GitHub, a store and a port each).
  await eachAtOnce(KILL_POINTS_AT_ONCE, n, async (k) => {
    const run = await revertRun(await newStore(), k);
    expect(run.killed, `k=${k}`).toBe(true);
    expect(run.snapshot, `killed after request ${k} of ${n}`).toEqual(baseline.snapshot);
    expect(run.watch, `k=${k}`).toMatchObject({ status: 'reverted', revert_pr: 99 });
  });
  console.log(
    `crash matrix: ${n} kill points (+1 baseline), ${n * 2 + 1} bot processes, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
