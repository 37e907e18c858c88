import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ANCHOR_CHECK_NAME, anchorCommitSha } from '../../src/github/audit-anchor.ts';
import { parseAuditLog, verifyChain } from '../../src/policy/overrides/audit-chain.ts';
import { type FakeGitHub, type Recorded, startGitHub } from '../support/github-server.ts';
import { AT, HARD_PAUSE, policyText, runAction, SOFT_PAUSE, TOKEN, workspace } from './runner.ts';
import { HOUR, labeled, opened, payload, pullCommits, withLabel } from './support.ts';

// The built dist/index.js, run the way GitHub's runner runs it, against GitHub played on loopback
// and a week of telemetry the test writes as JSONL. Payloads from @octokit/webhooks-examples;
// adapted: the pull request's labels (and the `labeled` event's label) and, for the revert, its
// title. The push example (refs/heads/master) is used as it is.

const REPO = '/repos/Codertocat/Hello-World';

let gh: FakeGitHub;
beforeEach(async () => {
  gh = await startGitHub();
});
afterEach(async () => {
  await gh.close();
});

const prFiles = (...paths: string[]): [number, unknown] => [
  200,
  paths.map((filename) => ({ filename, status: 'modified' })),
];
const sent = (method: string, path: string): Recorded | undefined =>
  gh.requests.find((r) => r.method === method && r.path === path);
/** The decision's check run (the audit anchor is a check run too, with its own name). */
const checkRun = () =>
  gh.requests.find(
    (r) => r.method === 'POST' && r.path === `${REPO}/check-runs` && r.body?.name !== ANCHOR_CHECK_NAME,
  )?.body;
/** Requests the bundle made, as `METHOD /path`, in order. */
const calls = () => gh.requests.map((r) => `${r.method} ${r.path.replace(REPO, '')}`);
const lastPush = (at: number): [number, unknown] => [
  200,
  [{ activity_type: 'push', timestamp: new Date(at).toISOString() }],
];

describe('dist/index.js as the runner runs it', () => {
  it('blocks a prompt change under SOFT-PAUSE: step fails, outputs and summary say why, 3 requests', async () => {
    gh.route('GET', `${REPO}/pulls/2/files`, prFiles('prompts/refund.md'));
    gh.route('POST', `${REPO}/check-runs`, [201, { id: 1 }]);
    const r = await runAction(gh, 'pull_request', opened(), workspace(SOFT_PAUSE));
    expect(r.status).toBe(1);
    expect(r.outputs).toMatchObject({ state: 'soft-pause', allowed: 'false', risk: 'high', override: '' });
    const decision = JSON.parse(r.outputs.decision!);
    expect(decision.reasons[0].code).toBe('soft-pause');
    expect(decision.slos[0]).toMatchObject({ name: 'agent-success', events: 10_080 });
    expect(decision.slos[0].consumed).toBeCloseTo(389 / 504, 2);
    expect(r.summary).toContain('SOFT-PAUSE');
    expect(r.summary).toContain('```mermaid');
    // `%` is escaped as `%25` in a workflow command: the runner shows the headline as it was.
    expect(r.stdout).toContain(
      '::error::SOFT-PAUSE — prompts/refund.md is high risk — agent-success 77%25 consumed at 3.0x pace — blocked',
    );
    expect(checkRun()).toMatchObject({
      name: 'budget-gate',
      head_sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
      conclusion: 'failure',
      output: { title: expect.stringMatching(/^SOFT-PAUSE — prompts\/refund\.md is high risk/) },
    });
    expect(checkRun().output.summary).toContain('agent-success');
    // The labels came with the event: the policy at the base, the files and the check run are all
    // the gate asked GitHub.
    expect(calls()).toEqual([
      'GET /contents/.github%2Ferror-budget.yml',
      'GET /pulls/2/files',
      'POST /check-runs',
    ]);
    expect(sent('GET', `${REPO}/contents/.github%2Ferror-budget.yml`)!.query).toBe(
      '?ref=f95f852bd8fca8fcc58a9a2d6c842781e32a215e',
    );
    expect(r.outputs['github-requests']).toBe('3');
    // The token is masked: the runner is told to hide it and it is never printed in clear.
    expect(r.stdout).toContain(`::add-mask::${TOKEN}`);
    expect(r.stdout.replace(`::add-mask::${TOKEN}`, '')).not.toContain(TOKEN);
  });

  it('lets a low-risk change through the same SOFT-PAUSE', async () => {
    gh.route('GET', `${REPO}/pulls/2/files`, prFiles('src/ui/banner.tsx', 'docs/faq.md'));
    gh.route('POST', `${REPO}/check-runs`, [201, { id: 2 }]);
    const r = await runAction(gh, 'pull_request', opened(), workspace(SOFT_PAUSE));
    expect(r.status).toBe(0);
    expect(r.outputs).toMatchObject({ state: 'soft-pause', allowed: 'true', risk: 'low' });
    expect(checkRun().conclusion).toBe('success');
    expect(r.outputs['github-requests']).toBe('3');
  });

  it('under HARD-PAUSE blocks a low-risk change, and a change whose title only claims to be a revert', async () => {
    const ws = workspace(HARD_PAUSE);
    gh.route('GET', `${REPO}/pulls/2/files`, prFiles('src/ui/banner.tsx'));
    gh.route('POST', `${REPO}/check-runs`, [201, { id: 3 }]);
    const held = await runAction(gh, 'pull_request', opened(), ws);
    expect(held.status).toBe(1);
    expect(held.outputs).toMatchObject({ state: 'hard-pause', allowed: 'false', risk: 'low' });
    expect(JSON.parse(held.outputs.decision!).slos[0].consumed).toBeGreaterThan(1);

    // A title is not evidence: the gate asks GitHub, finds no revert, and judges the change.
    const claimed = opened();
    claimed.pull_request.title = 'Revert "Swap the router model"';
    gh.route('GET', `${REPO}/pulls/2/commits`, [
      200,
      [
        {
          sha: 'd'.repeat(40),
          commit: { message: 'Swap the router model back, and more' },
          committer: { login: 'Codertocat' },
        },
      ],
    ]);
    const no = await runAction(gh, 'pull_request', claimed, ws);
    expect(no.status).toBe(1);
    expect(no.outputs).toMatchObject({ state: 'hard-pause', allowed: 'false' });
    expect(JSON.parse(no.outputs.decision!).revert).toBe(false);
    expect(no.summary).toContain('calls itself a revert');
  });

  it('honours a valid override and writes the audit record, shown in the summary', async () => {
    gh.route('GET', `${REPO}/pulls/2/files`, prFiles('prompts/refund.md'));
    gh.route('GET', `${REPO}/issues/2/events`, [
      200,
      labeled('override:catastrophic-event', 'sre-lead', AT - HOUR),
    ]);
    gh.route('GET', `${REPO}/pulls/2/commits`, [200, pullCommits('Codertocat')]);
    gh.route('GET', `${REPO}/activity`, lastPush(AT - 2 * HOUR));
    gh.route('GET', `${REPO}/contents/audit.jsonl`, [404, { message: 'Not Found' }]);
    gh.route('POST', `${REPO}/git/trees`, [
      201,
      { sha: 'tree-1', tree: [{ path: 'audit.jsonl', sha: 'blob-1' }] },
    ]);
    gh.route('POST', `${REPO}/git/commits`, [201, { sha: 'commit-1' }]);
    gh.route('POST', `${REPO}/git/refs`, [201, {}]);
    const anchorCommit = anchorCommitSha({ branch: 'budget-gate/audit', path: 'audit.jsonl' }).commit;
    gh.route('GET', `${REPO}/commits/${anchorCommit}/check-runs`, [200, { total_count: 0, check_runs: [] }]);
    gh.route('POST', `${REPO}/check-runs`, [201, { id: 4 }]);
    const r = await runAction(
      gh,
      'pull_request',
      withLabel('override:catastrophic-event'),
      workspace(SOFT_PAUSE),
    );
    expect(r.status).toBe(0);
    expect(r.outputs).toMatchObject({ state: 'soft-pause', allowed: 'true', override: 'catastrophic-event' });
    const text: string = sent('POST', `${REPO}/git/trees`)!.body.tree[0].content;
    expect(verifyChain(text)).toMatchObject({ ok: true, count: 1 });
    expect(parseAuditLog(text)[0]).toMatchObject({
      seq: 1,
      kind: 'override-applied',
      label: 'override:catastrophic-event',
      actor: 'sre-lead',
      author: 'Codertocat',
      pull_request: 2,
      sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
      state: 'soft-pause',
    });
    expect(sent('POST', `${REPO}/git/commits`)!.body).toMatchObject({ tree: 'tree-1', parents: [] });
    expect(sent('POST', `${REPO}/git/refs`)!.body).toEqual({
      ref: 'refs/heads/budget-gate/audit',
      sha: 'commit-1',
    });
    expect(r.summary).toContain('#### Audit log');
    expect(r.summary).toContain('"actor": "sre-lead"');
    expect(checkRun().conclusion).toBe('success');
    expect(calls()).toEqual([
      'GET /contents/.github%2Ferror-budget.yml',
      'GET /pulls/2/files',
      'GET /issues/2/events',
      'GET /pulls/2/commits',
      'GET /activity',
      'GET /contents/audit.jsonl',
      `GET /commits/${anchorCommit}/check-runs`,
      'POST /git/trees',
      'POST /git/commits',
      'POST /git/refs',
      'POST /check-runs',
      'POST /check-runs',
    ]);
    // The new head, anchored outside the branch: `seq:hash` of the record just written.
    const anchor = gh.requests.find((q) => q.method === 'POST' && q.body?.name === ANCHOR_CHECK_NAME)!.body;
    expect(anchor).toMatchObject({
      head_sha: anchorCommit,
      external_id: `1:${parseAuditLog(text)[0]!.hash}`,
    });
  });

  it.each([
    ['the author’s own', 'Codertocat', AT - HOUR, 'self-approval'],
    ['a stale (applied before the last push)', 'sre-lead', AT - 3 * HOUR, 'before-last-push'],
    ['an unauthorized', 'mallory', AT - HOUR, 'not-an-approver'],
  ])('refuses %s override and fails the step', async (_what, actor, at, code) => {
    gh.route('GET', `${REPO}/pulls/2/files`, prFiles('prompts/refund.md'));
    gh.route('GET', `${REPO}/issues/2/events`, [200, labeled('override:slo-wrong', actor, at)]);
    gh.route('GET', `${REPO}/pulls/2/commits`, [200, pullCommits('Codertocat')]);
    gh.route('GET', `${REPO}/activity`, lastPush(AT - 2 * HOUR));
    gh.route('GET', '/orgs/acme/teams/sre/memberships/mallory', [404, { message: 'Not Found' }]);
    gh.route('POST', `${REPO}/check-runs`, [201, { id: 5 }]);
    const r = await runAction(gh, 'pull_request', withLabel('override:slo-wrong'), workspace(SOFT_PAUSE));
    expect(r.status).toBe(1);
    expect(r.outputs).toMatchObject({ allowed: 'false', override: '' });
    const refusal = JSON.parse(r.outputs.decision!).override_refusals[0];
    expect(refusal).toMatchObject({ code, label: 'override:slo-wrong', applied_by: actor });
    expect(r.summary).toContain('Override labels refused');
    expect(checkRun().conclusion).toBe('failure');
    // Nothing is written to the audit log for a refused override (the policy is the only file read).
    expect(
      gh.requests.some(
        (q) =>
          q.path.includes('/git/') || (q.path.includes('/contents/') && !q.path.endsWith('error-budget.yml')),
      ),
    ).toBe(false);
    expect(gh.unmatched).toEqual([]);
  });

  it('gates a push deploy on what it ships since the last successful deployment', async () => {
    const base = 'b'.repeat(40);
    const head = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
    gh.route('GET', `${REPO}/deployments`, [200, [{ id: 41, sha: base }]]);
    gh.route('GET', `${REPO}/deployments/41/statuses`, [200, [{ state: 'success' }]]);
    gh.route('GET', `${REPO}/compare/${base}...${head}`, [
      200,
      {
        status: 'ahead',
        total_commits: 1,
        commits: [
          { sha: head, commit: { message: 'Swap the router model' }, author: null, parents: [{ sha: base }] },
        ],
        files: [{ filename: 'models/router.yml', status: 'modified' }],
      },
    ]);
    gh.route('GET', `${REPO}/commits/${head}/pulls`, [200, []]);
    gh.route('POST', `${REPO}/check-runs`, [201, { id: 6 }]);
    const r = await runAction(
      gh,
      'push',
      payload('push', (e) => e.ref === 'refs/heads/master'),
      workspace(SOFT_PAUSE),
      {
        environment: 'production',
      },
    );
    expect(r.status).toBe(1);
    expect(r.outputs).toMatchObject({ state: 'soft-pause', allowed: 'false', risk: 'high' });
    expect(sent('GET', `${REPO}/deployments`)!.query).toContain('environment=production');
    expect(checkRun()).toMatchObject({ head_sha: head, conclusion: 'failure' });
    // deployments, its status, compare, the policy at what production runs, the pull requests, check run
    expect(r.outputs['github-requests']).toBe('6');
    expect(gh.unmatched).toEqual([]);
  });

  it('a malformed policy fails the step: an annotation on the line at fault, and a failing check saying so', async () => {
    const line = policyText().split('\n').indexOf('    window: 7d') + 1;
    const ws = workspace(SOFT_PAUSE, (p) => p.replace('window: 7d', 'window: 7 days'));
    gh.route('POST', `${REPO}/check-runs`, [201, { id: 7 }]);
    const r = await runAction(gh, 'pull_request', opened(), ws);
    expect(r.status).toBe(1);
    expect(line).toBeGreaterThan(1);
    expect(r.stdout).toContain(
      `::error title=budget-gate%3A slos[0].window,file=.github/error-budget.yml,line=${line},col=13::expected a rolling window`,
    );
    expect(checkRun()).toMatchObject({
      conclusion: 'failure',
      output: {
        title: 'invalid policy: 1 problem in .github/error-budget.yml',
        annotations: [
          {
            path: '.github/error-budget.yml',
            start_line: line,
            end_line: line,
            annotation_level: 'failure',
            title: 'budget-gate: slos[0].window',
            message: expect.stringContaining('expected a rolling window'),
          },
        ],
      },
    });
    // Nothing else: no telemetry is judged against a policy that did not load (here the base's).
    expect(calls()).toEqual(['GET /contents/.github%2Ferror-budget.yml', 'POST /check-runs']);
  });

  it('a policy warning is annotated on its line and the gate still decides', async () => {
    const ws = workspace(SOFT_PAUSE, (p) =>
      p.replace(
        '      class: high\n',
        '      class: high\n    - paths: ["prompts/*.md"]\n      class: low\n',
      ),
    );
    const line =
      readFileSync(join(ws, '.github/error-budget.yml'), 'utf8')
        .split('\n')
        .indexOf('    - paths: ["prompts/*.md"]') + 1;
    gh.route('GET', `${REPO}/pulls/2/files`, prFiles('docs/faq.md'));
    gh.route('POST', `${REPO}/check-runs`, [201, { id: 8 }]);
    const r = await runAction(gh, 'pull_request', opened(), ws);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `::warning title=budget-gate%3A risk\\.rules\\[1\\][^,]*,file=\\.github/error-budget\\.yml,line=${line},`,
      ),
    );
    expect(checkRun().output.annotations).toEqual([
      expect.objectContaining({ annotation_level: 'warning', start_line: line }),
    ]);
  });

  it('reads Prometheus with the token and headers, masked; a failing Prometheus blocks per on_telemetry_error', async () => {
    const prom = await startGitHub();
    try {
      prom.route('POST', '/api/v1/query', [
        400,
        { status: 'error', errorType: 'bad_data', error: 'parse error' },
      ]);
      gh.route('GET', `${REPO}/pulls/2/files`, prFiles('docs/faq.md'));
      gh.route('POST', `${REPO}/check-runs`, [201, { id: 9 }]);
      const r = await runAction(gh, 'pull_request', opened(), workspace(SOFT_PAUSE), {
        'telemetry-file': '',
        'prometheus-url': prom.url,
        'prometheus-token': 'prom_secret_token',
        'prometheus-headers': 'X-Scope-OrgID: agents-tenant',
      });
      expect(prom.requests.length).toBeGreaterThan(0);
      expect(prom.requests[0]!.headers).toMatchObject({
        authorization: 'Bearer prom_secret_token',
        'x-scope-orgid': 'agents-tenant',
      });
      expect(r.status).toBe(1);
      expect(r.outputs.allowed).toBe('false');
      const decision = JSON.parse(r.outputs.decision!);
      expect(decision.reasons.map((x: { code: string }) => x.code)).toContain('telemetry-error');
      expect(r.stdout).toContain('::add-mask::prom_secret_token');
      expect(r.stdout.replace('::add-mask::prom_secret_token', '')).not.toContain('prom_secret_token');
      expect(r.stdout).toContain('::add-mask::agents-tenant');
    } finally {
      await prom.close();
    }
  });

  it('no policy file fails the step and says what to do', async () => {
    const ws = workspace(SOFT_PAUSE);
    const r = await runAction(gh, 'pull_request', opened(), ws, { policy: '.github/missing.yml' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('::error::no policy file at .github/missing.yml');
    // Neither at the pull request's base nor in the checkout; the failed check run and the job
    // summary say so too.
    expect(calls()).toEqual(['GET /contents/.github%2Fmissing.yml', 'POST /check-runs']);
    expect(r.summary).toContain('## budget-gate could not decide');
    expect(r.summary).toContain('no policy file at .github/missing.yml');
  });
});
