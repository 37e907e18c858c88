import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAuditLog } from '../../src/policy/audit.ts';
import { DEMO_END } from '../../src/scenarios/demo.ts';
import { type FakeGitHub, startGitHub } from '../support/github-server.ts';
import { tempDir } from '../support/tasks.ts';
import { hardPause, labeled, payload, workspace } from './support.ts';

// The built dist/index.js, run the way GitHub's runner runs it: inputs as INPUT_* variables, the
// event in GITHUB_EVENT_PATH, outputs and the summary in files, GitHub served on loopback.

const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const AT = Date.parse(DEMO_END);
const HOUR = 3_600_000;
const REPO = '/repos/Codertocat/Hello-World';

let gh: FakeGitHub;
beforeEach(async () => {
  gh = await startGitHub();
});
afterEach(async () => {
  await gh.close();
});

async function runAction(event: string, body: unknown, ws: string, inputs: Record<string, string> = {}) {
  if (!existsSync(DIST)) throw new Error('dist/index.js is missing: run `npm run build`');
  const dir = tempDir('bg-runner-');
  const files = {
    event: join(dir, 'event.json'),
    output: join(dir, 'output'),
    summary: join(dir, 'summary.md'),
  };
  writeFileSync(files.event, JSON.stringify(body));
  writeFileSync(files.output, '');
  writeFileSync(files.summary, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_REPOSITORY: 'Codertocat/Hello-World',
    GITHUB_SHA: 'f'.repeat(40),
    GITHUB_WORKSPACE: ws,
    GITHUB_API_URL: gh.url,
    'INPUT_TELEMETRY-FILE': 'telemetry.jsonl.gz',
    INPUT_TOKEN: 'ghs_e2e_secret_token',
    INPUT_AT: DEMO_END,
    'INPUT_CHECK-NAME': 'budget-gate',
    INPUT_POLICY: '.github/error-budget.yml',
    INPUT_MODE: 'enforce',
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  // Async: the fake GitHub lives in this process and must keep answering while the action runs.
  const child = spawn(process.execPath, [DIST], { env });
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  const status = await new Promise<number | null>((r) => child.on('exit', r));
  // GITHUB_OUTPUT holds `name<<delimiter\nvalue\ndelimiter` blocks.
  const outputs: Record<string, string> = {};
  for (const m of readFileSync(files.output, 'utf8').matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm))
    outputs[m[1]!] = m[3]!;
  return { status, stdout, outputs, summary: readFileSync(files.summary, 'utf8') };
}

const prFiles = (...paths: string[]) =>
  [200, paths.map((filename) => ({ filename, status: 'modified' }))] as [number, unknown];
function labeledPr(label: string) {
  const body = payload('pull_request', (e) => e.action === 'labeled');
  body.label = { ...body.label, name: label };
  body.pull_request.labels = [{ ...body.pull_request.labels[0], name: label }];
  return body;
}
const checkRun = () => gh.requests.find((r) => r.method === 'POST' && r.path === `${REPO}/check-runs`)?.body;

describe('dist/index.js as the runner runs it', () => {
  it('blocks a prompt change under SOFT-PAUSE: step fails, outputs and summary say why', async () => {
    gh.route('GET', `${REPO}/pulls/2/files`, prFiles('prompts/refund.md'));
    gh.route('POST', `${REPO}/check-runs`, [201, { id: 1 }]);
    const r = await runAction(
      'pull_request',
      payload('pull_request', (e) => e.action === 'opened'),
      workspace(),
    );
    expect(r.status).toBe(1);
    expect(r.outputs).toMatchObject({ state: 'soft-pause', allowed: 'false', risk: 'high', override: '' });
    expect(JSON.parse(r.outputs.decision!).reasons[0].code).toBe('soft-pause');
    expect(r.summary).toContain('### 🟠 SOFT-PAUSE — blocked');
    expect(r.summary).toContain('xychart-beta');
    expect(r.stdout).toContain('::error::SOFT-PAUSE — prompts/refund.md is high risk');
    expect(checkRun()).toMatchObject({
      conclusion: 'failure',
      output: { title: expect.stringMatching(/^SOFT-PAUSE/) },
    });
    expect(r.outputs['github-requests']).toBe('2');
    expect(gh.unmatched).toEqual([]);
    // The token is masked: the runner is told to hide it and it is never printed in clear.
    expect(r.stdout).toContain('::add-mask::ghs_e2e_secret_token');
    expect(r.stdout.replace('::add-mask::ghs_e2e_secret_token', '')).not.toContain('ghs_e2e_secret_token');
  });

  it('lets a low-risk change through', async () => {
    gh.route('GET', `${REPO}/pulls/2/files`, prFiles('src/ui/banner.tsx'));
    gh.route('POST', `${REPO}/check-runs`, [201, { id: 2 }]);
    const r = await runAction(
      'pull_request',
      payload('pull_request', (e) => e.action === 'opened'),
      workspace(),
    );
    expect(r.status).toBe(0);
    expect(r.outputs).toMatchObject({ state: 'soft-pause', allowed: 'true', risk: 'low' });
    expect(checkRun().conclusion).toBe('success');
  });

  it('under HARD-PAUSE blocks a low-risk change and lets a revert through', async () => {
    const ws = workspace(hardPause);
    gh.route('GET', `${REPO}/pulls/2/files`, prFiles('src/ui/banner.tsx'));
    gh.route('POST', `${REPO}/check-runs`, [201, { id: 3 }]);
    const held = await runAction(
      'pull_request',
      payload('pull_request', (e) => e.action === 'opened'),
      ws,
    );
    expect(held.status).toBe(1);
    expect(held.outputs).toMatchObject({ state: 'hard-pause', allowed: 'false' });

    const revert = payload('pull_request', (e) => e.action === 'opened');
    revert.pull_request.title = 'Revert "Swap the router model"';
    const ok = await runAction('pull_request', revert, ws);
    expect(ok.status).toBe(0);
    expect(ok.outputs).toMatchObject({ state: 'hard-pause', allowed: 'true' });
    expect(JSON.parse(ok.outputs.decision!).revert).toBe(true);
  });

  it('honours a valid override and writes the audit record, shown in the summary', async () => {
    gh.route('GET', `${REPO}/pulls/2/files`, prFiles('prompts/refund.md'));
    gh.route('GET', `${REPO}/issues/2/events`, [
      200,
      labeled('override:catastrophic-event', 'sre-lead', AT - HOUR),
    ]);
    gh.route('GET', `${REPO}/activity`, [
      200,
      [{ activity_type: 'push', timestamp: new Date(AT - 2 * HOUR).toISOString() }],
    ]);
    gh.route('POST', `${REPO}/git/trees`, (req) => [
      201,
      { sha: 'tree', tree: [{ path: 'audit.jsonl', sha: 'blob' }], echo: req.body },
    ]);
    gh.route('POST', `${REPO}/git/commits`, [201, { sha: 'commit-1' }]);
    gh.route('POST', `${REPO}/git/refs`, [201, {}]);
    gh.route('POST', `${REPO}/check-runs`, [201, { id: 4 }]);
    const r = await runAction('pull_request', labeledPr('override:catastrophic-event'), workspace());
    expect(r.status).toBe(0);
    expect(r.outputs).toMatchObject({ allowed: 'true', override: 'catastrophic-event' });
    const tree = gh.requests.find((q) => q.path === `${REPO}/git/trees`)!.body;
    expect(parseAuditLog(tree.tree[0].content)[0]).toMatchObject({
      kind: 'override-applied',
      actor: 'sre-lead',
      pull_request: 2,
    });
    expect(r.summary).toContain('#### Audit log');
    expect(r.summary).toContain('"actor": "sre-lead"');
    // The audit file did not exist yet: a GET 404, then the orphan branch.
    expect(gh.unmatched.map((q) => `${q.method} ${q.path}`)).toEqual([`GET ${REPO}/contents/audit.jsonl`]);
  });

  it.each([
    ['the author’s own', 'Codertocat', AT - HOUR, 'self-approval'],
    ['a stale', 'sre-lead', AT - 3 * HOUR, 'before-last-push'],
    ['an unauthorized', 'mallory', AT - HOUR, 'not-an-approver'],
  ])('refuses %s override and fails the step', async (_what, actor, at, code) => {
    gh.route('GET', `${REPO}/pulls/2/files`, prFiles('prompts/refund.md'));
    gh.route('GET', `${REPO}/issues/2/events`, [200, labeled('override:slo-wrong', actor, at)]);
    gh.route('GET', `${REPO}/activity`, [
      200,
      [{ activity_type: 'push', timestamp: new Date(AT - 2 * HOUR).toISOString() }],
    ]);
    gh.route('GET', '/orgs/acme/teams/sre/memberships/mallory', [404, { message: 'Not Found' }]);
    gh.route('POST', `${REPO}/check-runs`, [201, { id: 5 }]);
    const r = await runAction('pull_request', labeledPr('override:slo-wrong'), workspace());
    expect(r.status).toBe(1);
    expect(r.outputs).toMatchObject({ allowed: 'false', override: '' });
    expect(JSON.parse(r.outputs.decision!).override_refusals[0].code).toBe(code);
    expect(r.summary).toContain('Override labels refused');
    expect(gh.requests.some((q) => q.path.includes('/git/') || q.path.includes('/contents/'))).toBe(false);
  });

  it('a malformed policy fails the step with an annotation on the line at fault', async () => {
    const ws = workspace((p) => p.replace('window: 7d', 'window: 7 days'));
    const r = await runAction(
      'pull_request',
      payload('pull_request', (e) => e.action === 'opened'),
      ws,
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      '::error title=budget-gate%3A slos[2].window,file=.github/error-budget.yml,line=34,col=13::expected a rolling window',
    );
    expect(gh.requests).toEqual([]);
  });
});
