import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GateFailure } from '../../src/action/gate.ts';
import { run } from '../../src/action/main.ts';
import { API } from '../github/helpers.ts';
import { assertAllCalled, setupNock } from '../support/nock.ts';
import { tempDir } from '../support/tasks.ts';
import { GH_REPO, gate, nockPolicyAt, payload, workspace } from './support.ts';

// When a GitHub call fails — the override check, the pull request's files, the check run itself —
// the run still leaves a job summary and a check run with the failure in it. GitHub's answers are
// played as GitHub sends them: a 403 with its JSON message and documentation_url (no retry), a 5xx
// retried by plugin-retry and still failing.

const files = (...paths: string[]) => paths.map((filename) => ({ filename, status: 'modified' }));
const opened = () => payload('pull_request', (e) => e.action === 'opened');
function withLabel(name: string) {
  const body = payload('pull_request', (e) => e.action === 'labeled');
  body.label = { ...body.label, name };
  body.pull_request.labels = [{ ...body.pull_request.labels[0], name }];
  return body;
}
/** GitHub's 403 to a job token without the permission, as it sends it. */
const notAccessible = (docs: string) => ({
  message: 'Resource not accessible by integration',
  documentation_url: docs,
  status: '403',
});
/** GitHub's 502: an HTML page, not JSON. */
const BAD_GATEWAY = '<html><body><h1>502 Bad Gateway</h1></body></html>';
/** plugin-retry's three retries after the first attempt. */
const ATTEMPTS = 4;

/** Pull request 2 changes a high-risk prompt; what its label history answers is the caller's. */
const labelHistoryOfRefundPr = () =>
  nock(API)
    .get(`${GH_REPO}/pulls/2/files`)
    .query(true)
    .reply(200, files('prompts/refund.md'))
    .get(`${GH_REPO}/issues/2/events`)
    .query(true);

let checkRuns: Array<{ conclusion: string; output: { title: string; summary: string } }> = [];
const recordCheck = () =>
  nock(API)
    .post(`${GH_REPO}/check-runs`, (b) => {
      if (b && typeof b === 'object' && 'output' in b) checkRuns.push(b);
      return true;
    })
    .reply(201, { id: 7, html_url: 'https://github.com/Codertocat/Hello-World/runs/7' });

beforeEach(() => {
  setupNock();
  checkRuns = [];
});
afterEach(assertAllCalled);

describe('the override check fails: the decision without the override stands, and says why', () => {
  it('403 on the label history: blocked, the summary and the check run name `issues: read`', async () => {
    labelHistoryOfRefundPr().reply(
      403,
      notAccessible('https://docs.github.com/rest/issues/events#list-issue-events'),
    );
    recordCheck();
    const r = await gate('pull_request', withLabel('override:slo-wrong'));
    expect(r.decision).toMatchObject({ state: 'soft-pause', allowed: false, override: null });
    expect(r.failed).toBe(true);
    expect(r.githubFailures).toHaveLength(1);
    expect(r.githubFailures[0]).toMatch(
      /`override:slo-wrong` could not be checked, so it is not honoured: GitHub refused GET \/repos\/Codertocat\/Hello-World\/issues\/2\/events \(403 Resource not accessible by integration\): the token needs `issues: read`/,
    );
    for (const text of [r.markdown, checkRuns[0]!.output.summary]) {
      expect(text).toContain('SOFT-PAUSE');
      expect(text).toContain('the token needs `issues: read`');
    }
    expect(checkRuns[0]!.conclusion).toBe('failure');
  });

  it('502 on the label history, after retries: blocked, and the summary says GitHub failed, re-run', async () => {
    labelHistoryOfRefundPr().times(ATTEMPTS).reply(502, BAD_GATEWAY, { 'content-type': 'text/html' });
    recordCheck();
    const r = await gate('pull_request', withLabel('override:slo-wrong'));
    expect(r.decision).toMatchObject({ allowed: false, override: null });
    expect(r.routes.get(`GET ${GH_REPO}/issues/2/events`)).toBe(ATTEMPTS);
    expect(r.githubFailures[0]).toMatch(
      /GitHub answered 502 to GET \/repos\/Codertocat\/Hello-World\/issues\/2\/events \(Bad Gateway\), again after retries: .*re-run the job/,
    );
    expect(r.markdown).toContain('GitHub answered 502');
    expect(checkRuns[0]!.output.summary).toContain('GitHub answered 502');
  });
});

describe('GitHub fails before anything is decided: a failed check run and a summary say why', () => {
  it("500 on the pull request's files", async () => {
    nock(API)
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .times(ATTEMPTS)
      .reply(500, { message: 'Server Error' });
    recordCheck();
    const e = await gate('pull_request', opened()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GateFailure);
    const failure = e as GateFailure;
    expect(failure.message).toMatch(
      /^GitHub answered 500 to GET \/repos\/Codertocat\/Hello-World\/pulls\/2\/files/,
    );
    expect(failure.markdown).toContain('## budget-gate could not decide');
    expect(failure.markdown).toContain(failure.message);
    expect(checkRuns).toHaveLength(1);
    expect(checkRuns[0]).toMatchObject({ conclusion: 'failure' });
    expect(checkRuns[0]!.output.title).toMatch(/^budget-gate could not decide: GitHub answered 500/);
    expect(checkRuns[0]!.output.summary).toContain(failure.message);
  });

  it('403 on the policy in force names `contents: read`; a refused check run is said in the summary', async () => {
    nock(API)
      .get((uri) => uri.startsWith(`${GH_REPO}/contents/`))
      .query(true)
      .reply(403, notAccessible('https://docs.github.com/rest/repos/contents#get-repository-content'))
      .post(`${GH_REPO}/check-runs`)
      .reply(403, notAccessible('https://docs.github.com/rest/checks/runs#create-a-check-run'));
    const e = (await gate('pull_request', opened(), { inForce: false }).catch(
      (x: unknown) => x,
    )) as GateFailure;
    expect(e).toBeInstanceOf(GateFailure);
    expect(e.message).toContain('the token needs `contents: read`');
    expect(e.markdown).toContain('the token needs `checks: write`');
    expect(e.markdown).toContain('only the `budget-gate` check run is missing');
  });
});

describe('the check run fails after the decision', () => {
  it('a 502 on POST check-runs keeps the decision and says the check run is missing', async () => {
    nock(API)
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md'))
      .post(`${GH_REPO}/check-runs`)
      .times(ATTEMPTS)
      .reply(502, BAD_GATEWAY, { 'content-type': 'text/html' });
    const r = await gate('pull_request', opened());
    expect(r.decision).toMatchObject({ state: 'soft-pause', allowed: false });
    expect(r.check).toBeNull();
    expect(r.checkError).toMatch(/check run could not be posted: GitHub answered 502 .*The decision stands/);
  });
});

describe('the Action step (main.ts) writes the job summary whatever stopped it', () => {
  const saved = { ...process.env };
  // @actions/core keeps the first GITHUB_STEP_SUMMARY it sees: one file for every run here.
  const dir = tempDir('bg-run-');
  const summary = join(dir, 'summary.md');
  afterEach(() => {
    process.env = { ...saved };
    process.exitCode = undefined;
  });
  /** The step's environment for a pull_request `event` in a fresh workspace, its policy served as GitHub would. */
  const actionOn = (event: unknown, env: Record<string, string> = {}) => {
    const ws = workspace();
    const eventPath = join(dir, 'event.json');
    writeFileSync(eventPath, JSON.stringify(event));
    writeFileSync(summary, '');
    Object.assign(process.env, {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: 'Codertocat/Hello-World',
      GITHUB_SHA: 'f'.repeat(40),
      GITHUB_WORKSPACE: ws,
      GITHUB_API_URL: API,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_TOKEN: 'ghs_test',
      'INPUT_TELEMETRY-FILE': 'telemetry.jsonl.gz',
      ...env,
    });
    nockPolicyAt(readFileSync(join(ws, '.github/error-budget.yml'), 'utf8'));
  };

  it('a 403 on the label history: the summary has the verdict and the permission to grant', async () => {
    writeFileSync(join(dir, 'output'), '');
    actionOn(withLabel('override:slo-wrong'), {
      GITHUB_OUTPUT: join(dir, 'output'),
      INPUT_AT: '2026-11-20T09:00:00Z',
    });
    labelHistoryOfRefundPr().reply(
      403,
      notAccessible('https://docs.github.com/rest/issues/events#list-issue-events'),
    );
    recordCheck();
    await run();
    const written = readFileSync(summary, 'utf8');
    expect(written).toContain('SOFT-PAUSE');
    expect(written).toContain('the token needs `issues: read`');
    expect(process.exitCode).toBe(1);
  });

  it("a 403 on the pull request's files: a summary saying the gate could not decide, and why", async () => {
    actionOn(opened());
    nock(API)
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(403, notAccessible('https://docs.github.com/rest/pulls/pulls#list-pull-requests-files'));
    recordCheck();
    await run();
    const written = readFileSync(summary, 'utf8');
    expect(written).toContain('## budget-gate could not decide');
    expect(written).toContain('pull-requests: read');
    expect(checkRuns[0]).toMatchObject({ conclusion: 'failure' });
    expect(process.exitCode).toBe(1);
  });
});
