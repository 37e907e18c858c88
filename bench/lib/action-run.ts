import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_END, DEMO_POLICY } from '../../src/scenarios/demo.ts';
import { type FakeGitHub, startGitHub } from '../../test/support/github-server.ts';
import { type FakePrometheus, startFakePrometheus } from './fake-prometheus.ts';

export const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const REPO = '/repos/Codertocat/Hello-World';
const HOUR = 3_600_000;
const AT = Date.parse(DEMO_END);

// webhooks-examples is JSON behind a CommonJS entry; require() reads it without import attributes.
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples');

function examplePayload(name: string, action?: string): Record<string, any> {
  const family = (examples as unknown as { name: string; examples: Record<string, any>[] }[]).find(
    (e) => e.name === name,
  )!;
  return structuredClone(family.examples.find((e) => action === undefined || e.action === action)!);
}

export interface Servers {
  gh: FakeGitHub;
  prom: FakePrometheus;
  workspace: string;
  close(): Promise<void>;
}

/** GitHub and Prometheus on loopback, a workspace with the example policy, routes for every scenario. */
export async function startServers(): Promise<Servers> {
  const gh = await startGitHub();
  const prom = await startFakePrometheus();
  const workspace = mkdtempSync(join(tmpdir(), 'bg-bench-'));
  mkdirSync(join(workspace, '.github'));
  copyFileSync(DEMO_POLICY, join(workspace, '.github/error-budget.yml'));
  const base = 'b'.repeat(40);
  const head = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
  gh.route('GET', `${REPO}/pulls/2/files`, [200, [{ filename: 'prompts/refund.md', status: 'modified' }]]);
  gh.route('POST', `${REPO}/check-runs`, [201, { id: 1 }]);
  gh.route('GET', `${REPO}/deployments`, [200, [{ id: 41, sha: base }]]);
  gh.route('GET', `${REPO}/deployments/41/statuses`, [200, [{ state: 'success' }]]);
  gh.route('GET', `${REPO}/compare/${base}...${head}`, [
    200,
    {
      status: 'ahead',
      total_commits: 1,
      commits: [
        {
          sha: head,
          commit: { message: 'Rewrite the refund prompt' },
          author: { login: 'dev' },
          parents: [{ sha: base }],
        },
      ],
      files: [{ filename: 'prompts/refund.md', status: 'modified' }],
    },
  ]);
  gh.route('GET', `${REPO}/commits/${head}/pulls`, [200, []]);
  gh.route('GET', `${REPO}/issues/2/events`, [
    200,
    [
      {
        id: 1,
        event: 'labeled',
        actor: { login: 'sre-lead' },
        label: { name: 'override:slo-wrong' },
        created_at: new Date(AT - HOUR).toISOString(),
      },
    ],
  ]);
  gh.route('GET', `${REPO}/activity`, [
    200,
    [{ activity_type: 'push', timestamp: new Date(AT - 2 * HOUR).toISOString() }],
  ]);
  gh.route('GET', `${REPO}/contents/audit.jsonl`, [
    200,
    { type: 'file', sha: 'sha-A', size: 0, content: '' },
  ]);
  gh.route('PUT', `${REPO}/contents/audit.jsonl`, [200, { content: { sha: 'sha-B' }, commit: { sha: 'c' } }]);
  return {
    gh,
    prom,
    workspace,
    close: async () => {
      await gh.close();
      await prom.close();
    },
  };
}

export type Scenario = 'pr' | 'push' | 'override';

function eventFor(scenario: Scenario): { name: string; body: unknown } {
  if (scenario === 'push') {
    const body = examplePayload('push');
    body.ref = 'refs/heads/main';
    body.before = 'c'.repeat(40);
    return { name: 'push', body };
  }
  if (scenario === 'override') {
    const body = examplePayload('pull_request', 'labeled');
    body.label = { ...body.label, name: 'override:slo-wrong' };
    body.pull_request.labels = [{ ...body.pull_request.labels[0], name: 'override:slo-wrong' }];
    return { name: 'pull_request', body };
  }
  return { name: 'pull_request', body: examplePayload('pull_request', 'opened') };
}

/** One run of `node dist/index.js` as the runner starts it; resolves with wall time and exit code. */
export async function runDist(
  servers: Servers,
  scenario: Scenario,
  nodeArgs: string[] = [],
): Promise<{ ms: number; code: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-bench-run-'));
  const { name, body } = eventFor(scenario);
  writeFileSync(join(dir, 'event.json'), JSON.stringify(body));
  writeFileSync(join(dir, 'out'), '');
  writeFileSync(join(dir, 'summary'), '');
  const env = {
    PATH: process.env.PATH ?? '',
    GITHUB_EVENT_NAME: name,
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_OUTPUT: join(dir, 'out'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_REPOSITORY: 'Codertocat/Hello-World',
    GITHUB_SHA: 'f'.repeat(40),
    GITHUB_WORKSPACE: servers.workspace,
    GITHUB_API_URL: servers.gh.url,
    INPUT_TOKEN: 'ghs_bench',
    'INPUT_PROMETHEUS-URL': servers.prom.url,
    INPUT_AT: DEMO_END,
    'INPUT_CHECK-NAME': 'budget-gate',
    INPUT_MODE: 'report',
  };
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, DIST], { env, stdio: 'ignore' });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return { ms: performance.now() - t0, code };
}

export async function runNode(args: string[]): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  await new Promise((r) => child.on('exit', r));
  return performance.now() - t0;
}
