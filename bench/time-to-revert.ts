import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRevert } from '../src/bot/revert/revert.ts';
import { Watcher } from '../src/bot/watcher.ts';
import { createOctokit } from '../src/github/octokit.ts';
import { assessDeployment, planCanaryRequest } from '../src/policy/canary/assess.ts';
import { loadPolicy } from '../src/policy/spec/load.ts';
import { SqliteWatchStore } from '../src/store/sqlite.ts';
import { MemorySource } from '../src/telemetry/memory.ts';
import { startGitHub } from '../test/support/github-server.ts';
import type { Figure } from './lib/report.ts';

// 5. Time to revert: a deployment starts failing 80% of tasks; the bot ticks every minute. From the
// tick at which the data first crosses auto_revert.consumed to the revert pull request being opened
// on a local GitHub: in ticks (0 = that very tick) and milliseconds.

const MINUTE = 60_000;
const DAY = 86_400_000;
const DEPLOYED = Date.parse('2026-11-20T08:00:00Z');
const POLICY = `version: 1
slos:
  - { name: tasks-success, sli: { kind: success }, target: 0.999, window: 30d, scope: all }
auto_revert: { consumed: 0.2, within: 60m, interval: 1m, min_events: 50 }
oncall: { users: [oncall] }
`;
const silent = { info() {}, warn() {}, error() {} };
const PREV = 'a'.repeat(40);
const SHA = 'b'.repeat(40);
const TIP = 'c'.repeat(40);

/** 4 tasks a minute for 30 days at 0.05% failing; from the deploy on, 80% failing. */
function records() {
  const out = [];
  let acc = 0;
  for (let m = DEPLOYED - 30 * DAY; m < DEPLOYED + 60 * MINUTE; m += MINUTE) {
    for (let i = 0; i < 4; i++) {
      const t = m + 7_000 + i * 13_000;
      acc += t > DEPLOYED ? 0.8 : 0.0005;
      const bad = acc >= 1;
      if (bad) acc -= 1;
      out.push({ time: t, ok: !bad, latency_ms: undefined, cost_usd: undefined, attrs: undefined });
    }
  }
  return out;
}

export async function timeToRevert(runs = 5): Promise<Figure[]> {
  const { policy } = loadPolicy(POLICY, 'policy.yml');
  const source = new MemorySource('bench', records());
  // When does the data first cross? Ask the pure assessment at every minute after the deploy.
  let crossing = -1;
  for (let k = 1; k <= 60 && crossing < 0; k++) {
    const at = DEPLOYED + k * MINUTE;
    const watch = { id: '1', deployed_at: DEPLOYED };
    if (
      assessDeployment(policy, watch, await source.fetch(planCanaryRequest(policy, [watch], at)), at).breach
    )
      crossing = k;
  }
  if (crossing < 0) throw new Error('the scenario never crosses the line');

  const ticksLate: number[] = [];
  const ms: number[] = [];
  for (let run = 0; run < runs; run++) {
    const gh = await startGitHub();
    const R = '/repos/acme/agents';
    let prOpenedAt = 0;
    gh.route('GET', `${R}/compare/${PREV}...${SHA}`, [
      200,
      {
        status: 'ahead',
        total_commits: 1,
        commits: [],
        files: [{ filename: 'prompts/refund.md', status: 'modified' }],
      },
    ]);
    gh.route('GET', `${R}/branches/main`, [
      200,
      { name: 'main', commit: { sha: TIP, commit: { tree: { sha: 'd'.repeat(40) } } } },
    ]);
    gh.route('GET', `${R}/compare/${SHA}...${TIP}`, [
      200,
      { status: 'ahead', total_commits: 0, commits: [], files: [] },
    ]);
    gh.route('GET', `${R}/git/trees/${PREV}`, [
      200,
      {
        sha: PREV,
        truncated: false,
        tree: [{ path: 'prompts/refund.md', mode: '100644', type: 'blob', sha: 'e'.repeat(40) }],
      },
    ]);
    gh.route('POST', `${R}/git/trees`, [201, { sha: 'f'.repeat(40), tree: [] }]);
    gh.route('POST', `${R}/git/commits`, [201, { sha: '1'.repeat(40) }]);
    gh.route('POST', `${R}/git/refs`, [201, {}]);
    gh.route('POST', `${R}/pulls`, () => {
      prOpenedAt = performance.now();
      return [
        201,
        { number: 99, html_url: 'https://github.test/acme/agents/pull/99', node_id: 'PR_1', draft: false },
      ];
    });
    gh.route('POST', `${R}/issues/99/labels`, [200, []]);
    gh.route('POST', `${R}/pulls/99/requested_reviewers`, [201, {}]);
    gh.route('POST', `${R}/deployments/7/statuses`, [201, {}]);
    const octokit = createOctokit({ token: 'ghs_bench', baseUrl: gh.url });
    const store = new SqliteWatchStore(join(mkdtempSync(join(tmpdir(), 'bg-bench-ttr-')), 'w.sqlite'));
    await store.add(
      {
        deployment_id: 7,
        owner: 'acme',
        repo: 'agents',
        installation_id: 1,
        environment: 'production',
        sha: SHA,
        previous_sha: PREV,
        previous_deployment_id: 6,
        default_branch: 'main',
        deployed_at: DEPLOYED,
        pull_number: null,
        pull_title: null,
        policy_text: POLICY,
        policy_path: '.github/error-budget.yml',
      },
      DEPLOYED,
    );
    let now = DEPLOYED;
    const watcher = new Watcher({
      store,
      source,
      clock: () => now,
      replica: 'bench',
      revert: (w, e, p) => openRevert(octokit, w, e, p, silent),
      log: silent,
    });
    for (let k = 1; k <= 60; k++) {
      now = DEPLOYED + k * MINUTE;
      const start = performance.now();
      const report = await watcher.tick();
      if (report.reverted.length > 0) {
        ticksLate.push(k - crossing);
        if (k === crossing) ms.push(prOpenedAt - start);
        break;
      }
    }
    await store.close();
    await gh.close();
  }
  const worst = Math.max(...ticksLate);
  return [
    {
      bench: 'time-to-revert',
      metric: 'data first crosses the line',
      value: crossing,
      unit: 'min after the deploy',
    },
    {
      bench: 'time-to-revert',
      metric: 'revert opened, ticks after the crossing',
      value: worst,
      unit: 'ticks',
      target: '0 (the same tick)',
      met: worst === 0,
    },
    {
      bench: 'time-to-revert',
      metric: 'from that tick’s start to the pull request opened (median)',
      value: ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)] ?? Number.NaN,
      unit: 'ms',
      note: `${runs} runs; GitHub on loopback; mostly Octokit's write pacing (1 s between content-creating requests, GitHub's secondary-rate-limit guidance): tree, commit, ref, pull request`,
    },
  ];
}
