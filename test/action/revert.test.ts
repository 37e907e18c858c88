import { describe, expect, it } from 'vitest';
import { parseAuditLog, verifyChain } from '../../src/policy/overrides/audit-chain.ts';
import { api, auditAnchors, lastDeployment as nockLastDeployment } from '../github/helpers.ts';
import { useNock } from '../support/nock.ts';
import { changedFiles as files, GH_REPO, gate, hardPause, opened, payload, workspace } from './support.ts';

// The revert lane is a security boundary: a revert passes every pause, so only evidence GitHub
// vouches for makes one (the App's own revert PR, an exact inverse diff, a rollback deployment),
// never a title or a branch name, and every revert that passes a pause is in the audit log.
// Payloads from @octokit/webhooks-examples; adapted: title, head ref, author.

const HEAD = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821'; // the example PR's head
const REVERTED = '0123456789abcdef0123456789abcdef01234567';
const PARENT = 'e'.repeat(40);
const PR_BASE = 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e'; // the example PR's base (master)

function pr(edit: (p: ReturnType<typeof opened>) => void = () => {}) {
  const body = opened();
  edit(body);
  return body;
}
const commitOf = (message: string, author = 'Codertocat', verified = false, committer = author) => ({
  sha: 'd'.repeat(40),
  commit: { message, verification: { verified, reason: verified ? 'valid' : 'unsigned' } },
  author: { login: author },
  committer: { login: committer },
});

/**
 * GitHub for a pull request of `prFiles` whose one commit says it reverts REVERTED (which touched
 * prompts/refund.md), where `changedSince` differ between REVERTED's parent and the PR's head.
 */
function nockGitRevert(prFiles: string[], changedSince: string[], checkRunId: number): void {
  api()
    .get(`${GH_REPO}/pulls/2/files`)
    .query(true)
    .reply(200, files(...prFiles))
    .get(`${GH_REPO}/pulls/2/commits`)
    .query(true)
    .reply(200, [commitOf(`Revert "Rewrite the refund prompt"\n\nThis reverts commit ${REVERTED}.`)])
    .get(`${GH_REPO}/commits/${REVERTED}`)
    .query(true)
    .reply(200, reverted())
    // REVERTED is in master's history: the base is ahead of it.
    .get(`${GH_REPO}/compare/${PR_BASE}...${REVERTED}`)
    .query(true)
    .reply(200, { status: 'behind', ahead_by: 0, behind_by: 3, total_commits: 0, commits: [], files: [] })
    .get(`${GH_REPO}/compare/${PARENT}...${HEAD}`)
    .query(true)
    .reply(200, { status: 'ahead', total_commits: 2, commits: [], files: files(...changedSince) })
    .post(`${GH_REPO}/check-runs`)
    .reply(201, { id: checkRunId });
}

/** GET /commits/REVERTED as GitHub answers it: an ordinary change to the refund prompt. */
const reverted = (message = 'Rewrite the refund prompt') => ({
  sha: REVERTED,
  commit: { message },
  parents: [{ sha: PARENT }],
  files: files('prompts/refund.md'),
});

const titled = (title: string) =>
  pr((p) => {
    p.pull_request.title = title;
  });

/** The audit branch does not exist yet: the record creates it. Returns what was written. */
function nockAuditWrite(): { text: () => string } {
  let tree: { tree: { content: string }[] } | undefined;
  api()
    .get(`${GH_REPO}/contents/audit.jsonl`)
    .query(true)
    .reply(404, {
      message: 'Not Found',
      documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content',
    })
    .post(`${GH_REPO}/git/trees`, (b) => {
      tree = b;
      return true;
    })
    .reply(201, { sha: 't'.repeat(40), tree: [{ path: 'audit.jsonl', sha: 'b'.repeat(40) }] })
    .post(`${GH_REPO}/git/commits`)
    .reply(201, { sha: 'c'.repeat(40) })
    .post(`${GH_REPO}/git/refs`)
    .reply(201, { ref: 'refs/heads/budget-gate/audit' });
  // Registered before the decision's check run, so the anchor's check run is told apart.
  auditAnchors(api(), GH_REPO, []);
  return { text: () => tree!.tree[0]!.content };
}

useNock('all-called');

describe('claims are not evidence: under HARD-PAUSE a prompt change that only says it is a revert is blocked', () => {
  it.each([
    [
      'a title "Revert-proof prompt rewrite"',
      (p: ReturnType<typeof opened>) => {
        p.pull_request.title = 'Revert-proof prompt rewrite';
      },
    ],
    [
      'a title "Revert …"',
      (p: ReturnType<typeof opened>) => {
        p.pull_request.title = 'Revert "Rewrite the refund prompt"';
      },
    ],
    [
      'a branch revert-1-anything',
      (p: ReturnType<typeof opened>) => {
        p.pull_request.head.ref = 'revert-1-anything';
      },
    ],
    [
      'the App’s branch name, pushed by a person',
      (p: ReturnType<typeof opened>) => {
        p.pull_request.head.ref = 'budget-gate/revert-99';
      },
    ],
  ])('%s', async (_what, edit) => {
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md'))
      .get(`${GH_REPO}/pulls/2/commits`)
      .query({ per_page: 100 })
      .reply(200, [commitOf('Rewrite the refund prompt')])
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 1 });
    const r = await gate('pull_request', pr(edit), { workspace: workspace(hardPause) });
    expect(r.decision).toMatchObject({
      state: 'hard-pause',
      allowed: false,
      revert: false,
      revert_evidence: null,
    });
    const reason = r.decision.reasons.find((x) => x.code === 'revert-unverified');
    expect(reason?.message).toMatch(/calls itself a revert .* GitHub does not vouch for it/);
    expect(r.failed).toBe(true);
  });

  it('a "This reverts commit" message whose diff also changes another file', async () => {
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md', 'prompts/new-tone.md'))
      .get(`${GH_REPO}/pulls/2/commits`)
      .query(true)
      .reply(200, [commitOf(`Revert "Rewrite the refund prompt"\n\nThis reverts commit ${REVERTED}.`)])
      .get(`${GH_REPO}/commits/${REVERTED}`)
      .query(true)
      .reply(200, reverted())
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 2 });
    const r = await gate(
      'pull_request',
      pr((p) => {
        p.pull_request.title = 'Revert "Rewrite the refund prompt"';
      }),
      {
        workspace: workspace(hardPause),
      },
    );
    expect(r.decision).toMatchObject({ allowed: false, revert: false });
    expect(r.decision.warnings.join('\n')).toMatch(
      /not verified as a revert: it also changes prompts\/new-tone.md/,
    );
  });

  it('a revert commit whose file no longer matches what it was before the reverted commit', async () => {
    nockGitRevert(['prompts/refund.md'], ['prompts/refund.md'], 3);
    const r = await gate('pull_request', titled('Revert "x"'), { workspace: workspace(hardPause) });
    expect(r.decision).toMatchObject({ allowed: false, revert: false });
    expect(r.decision.warnings.join('\n')).toMatch(/prompts\/refund.md is not as before 0123456/);
  });

  it('the App’s revert PR with a commit someone else pushed onto it', async () => {
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md'))
      .get(`${GH_REPO}/pulls/2/commits`)
      .query(true)
      .reply(200, [
        commitOf('Revert deployment 7', 'budget-gate[bot]', true),
        // Edited in GitHub's web editor: signed by GitHub (web-flow), but not the App's commit.
        commitOf('and a new prompt', 'mallory', true, 'web-flow'),
      ])
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 4 });
    const body = pr((p) => {
      p.pull_request.title = 'Revert deployment 7';
      p.pull_request.head.ref = 'budget-gate/revert-7';
      p.pull_request.user = { ...p.pull_request.user, login: 'budget-gate[bot]', type: 'Bot' };
    });
    const r = await gate('pull_request', body, { workspace: workspace(hardPause) });
    expect(r.decision).toMatchObject({ allowed: false, revert: false });
    expect(r.decision.warnings.join('\n')).toMatch(/was not made by budget-gate\[bot\]/);
  });
});

// GitHub lists at most 250 commits of a pull request: past that, a commit someone else pushed onto
// the App's branch could hide, so a list that long does not vouch for the App's pull request.
it('the App’s revert PR whose commit list GitHub cut at 250 is not vouched for', async () => {
  const appCommits = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      ...commitOf('Revert deployment 7', 'budget-gate[bot]', true, 'web-flow'),
      sha: (from + i).toString(16).padStart(40, '0'),
    }));
  const next = (p: number) => ({
    link: `<https://api.github.test${GH_REPO}/pulls/2/commits?per_page=100&page=${p}>; rel="next"`,
  });
  api()
    .get(`${GH_REPO}/pulls/2/files`)
    .query(true)
    .reply(200, files('prompts/refund.md'))
    .get(`${GH_REPO}/pulls/2/commits`)
    .query({ per_page: 100 })
    .reply(200, appCommits(0, 100), next(2))
    .get(`${GH_REPO}/pulls/2/commits`)
    .query({ per_page: 100, page: 2 })
    .reply(200, appCommits(100, 100), next(3))
    .get(`${GH_REPO}/pulls/2/commits`)
    .query({ per_page: 100, page: 3 })
    .reply(200, appCommits(200, 50))
    .post(`${GH_REPO}/check-runs`)
    .reply(201, { id: 11 });
  const body = pr((p) => {
    p.pull_request.title = 'Revert deployment 7';
    p.pull_request.head.ref = 'budget-gate/revert-7';
    p.pull_request.user = { ...p.pull_request.user, login: 'budget-gate[bot]', type: 'Bot' };
  });
  const r = await gate('pull_request', body, { workspace: workspace(hardPause) });
  expect(r.decision).toMatchObject({ allowed: false, revert: false });
  expect(r.decision.warnings.join('\n')).toMatch(/GitHub lists 250 of its commits, the most it lists/);
});

describe('real reverts pass every pause and are written to the audit log', () => {
  it('git revert of a commit: every file it touches is as before the reverted commit', async () => {
    const audit = nockAuditWrite();
    nockGitRevert(['prompts/refund.md'], ['src/ui/banner.tsx'], 5);
    const r = await gate('pull_request', titled('Revert "Rewrite the refund prompt"'), {
      workspace: workspace(hardPause),
    });
    expect(r.decision).toMatchObject({
      state: 'hard-pause',
      allowed: true,
      revert: true,
      revert_evidence: { kind: 'inverse-diff', reverts: REVERTED, files: 1 },
    });
    expect(verifyChain(audit.text())).toMatchObject({ ok: true, count: 1 });
    expect(parseAuditLog(audit.text())[0]).toMatchObject({
      kind: 'revert-passed',
      pull_request: 2,
      label: 'revert:inverse-diff',
      reason: REVERTED,
      actor: 'Codertocat',
      state: 'hard-pause',
    });
    expect(parseAuditLog(audit.text())[0]!.message).toMatch(/exactly as before 0123456/);
  });

  it('the budget-gate App’s own revert pull request', async () => {
    const audit = nockAuditWrite();
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md'))
      .get(`${GH_REPO}/pulls/2/commits`)
      .query(true)
      // As GitHub lists an App's API-created commit: authored by the App, committed and signed by GitHub.
      .reply(200, [commitOf('Revert deployment 7 (f95f852)', 'budget-gate[bot]', true, 'web-flow')])
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 6 });
    const body = pr((p) => {
      p.pull_request.title = 'Revert deployment 7: it burned 1.4% of the budget in 12 min';
      p.pull_request.head.ref = 'budget-gate/revert-7';
      p.pull_request.user = { ...p.pull_request.user, login: 'budget-gate[bot]', type: 'Bot' };
    });
    const r = await gate('pull_request', body, { workspace: workspace(hardPause) });
    expect(r.decision).toMatchObject({
      allowed: true,
      revert_evidence: {
        kind: 'app-pull-request',
        app: 'budget-gate',
        pull_request: 2,
        branch: 'budget-gate/revert-7',
      },
    });
    expect(parseAuditLog(audit.text())[0]).toMatchObject({
      kind: 'revert-passed',
      label: 'revert:app-pull-request',
    });
  });
});

describe('deploys', () => {
  const BASE = 'b'.repeat(40);
  const DEPLOY_HEAD = '6113728f27ae82c7b1a177c8d03f9e96e0adf246'; // the example push's after
  const push = () => {
    const body = payload('push');
    body.ref = 'refs/heads/main';
    body.before = 'c'.repeat(40);
    return body;
  };
  /** `head...base` for a deploy that goes back: what the commits between changed, as GitHub lists it. */
  const undone = (paths: string[]) => ({
    status: 'ahead',
    ahead_by: 2,
    behind_by: 0,
    total_commits: 2,
    commits: [],
    files: paths.map((filename) => ({ filename, status: 'modified' })),
  });
  const lastDeployment = () => nockLastDeployment(GH_REPO, BASE);

  it('a rollback to a sha production ran before passes the HARD-PAUSE', async () => {
    const audit = nockAuditWrite();
    lastDeployment()
      .get(`${GH_REPO}/compare/${BASE}...${DEPLOY_HEAD}`)
      .reply(200, { status: 'behind', ahead_by: 0, behind_by: 2, total_commits: 0, commits: [], files: [] })
      .get(`${GH_REPO}/compare/${DEPLOY_HEAD}...${BASE}`)
      .reply(200, undone(['prompts/refund.md']))
      .get(`${GH_REPO}/deployments`)
      .query({ sha: DEPLOY_HEAD, environment: 'production', per_page: 10 })
      .reply(200, [{ id: 30, sha: DEPLOY_HEAD }])
      .get(`${GH_REPO}/deployments/30/statuses`)
      .query({ per_page: 100 })
      .reply(200, [{ state: 'inactive' }, { state: 'success' }, { state: 'in_progress' }])
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 7 });
    const r = await gate('push', push(), { workspace: workspace(hardPause) });
    expect(r.decision).toMatchObject({
      allowed: true,
      revert_evidence: { kind: 'rollback', sha: DEPLOY_HEAD, environment: 'production', deployment_id: 30 },
    });
    expect(parseAuditLog(audit.text())[0]).toMatchObject({ kind: 'revert-passed', label: 'revert:rollback' });
  });

  it('going back to a sha that never ran in production is not a rollback', async () => {
    lastDeployment()
      .get(`${GH_REPO}/compare/${BASE}...${DEPLOY_HEAD}`)
      .reply(200, { status: 'behind', ahead_by: 0, behind_by: 2, total_commits: 0, commits: [], files: [] })
      .get(`${GH_REPO}/compare/${DEPLOY_HEAD}...${BASE}`)
      .reply(200, undone(['prompts/refund.md']))
      .get(`${GH_REPO}/deployments`)
      .query({ sha: DEPLOY_HEAD, environment: 'production', per_page: 10 })
      .reply(200, [])
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 8 });
    const r = await gate('push', push(), { workspace: workspace(hardPause) });
    expect(r.decision).toMatchObject({ allowed: false, revert: false });
    expect(r.decision.warnings.join('\n')).toMatch(/was never deployed to production successfully/);
  });

  // Attempt 4 of issue 20: a sha whose deployment the bot could not revert (marked `error`) did not
  // run well either.
  it('going back to a sha whose deployment was marked error is not a rollback', async () => {
    lastDeployment()
      .get(`${GH_REPO}/compare/${BASE}...${DEPLOY_HEAD}`)
      .reply(200, { status: 'behind', ahead_by: 0, behind_by: 2, total_commits: 0, commits: [], files: [] })
      .get(`${GH_REPO}/compare/${DEPLOY_HEAD}...${BASE}`)
      .reply(200, undone(['prompts/refund.md']))
      .get(`${GH_REPO}/deployments`)
      .query({ sha: DEPLOY_HEAD, environment: 'production', per_page: 10 })
      .reply(200, [{ id: 30, sha: DEPLOY_HEAD }])
      .get(`${GH_REPO}/deployments/30/statuses`)
      .query({ per_page: 100 })
      .reply(200, [
        { state: 'error', description: 'budget-gate: revert failed (3 attempts): 502 Bad Gateway' },
        { state: 'success' },
      ])
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 10 });
    const r = await gate('push', push(), { workspace: workspace(hardPause) });
    expect(r.decision).toMatchObject({ allowed: false, revert: false, risk: 'high' });
    expect(r.decision.warnings.join('\n')).toMatch(
      /6113728 was deployed to production \(deployment 30\) and marked `error` \("budget-gate: revert failed/,
    );
  });

  it('a deploy of a revert commit whose diff is the exact inverse passes', async () => {
    nockAuditWrite();
    lastDeployment()
      .get(`${GH_REPO}/compare/${BASE}...${DEPLOY_HEAD}`)
      .reply(200, {
        status: 'ahead',
        total_commits: 1,
        commits: [
          {
            sha: DEPLOY_HEAD,
            commit: { message: `Revert "Rewrite the refund prompt"\n\nThis reverts commit ${REVERTED}.` },
            author: { login: 'dev' },
            parents: [{ sha: BASE }],
          },
        ],
        files: [{ filename: 'prompts/refund.md', status: 'modified' }],
      })
      .get(`${GH_REPO}/commits/${REVERTED}`)
      .query(true)
      .reply(200, reverted())
      // REVERTED runs in production: what runs is ahead of it.
      .get(`${GH_REPO}/compare/${BASE}...${REVERTED}`)
      .query(true)
      .reply(200, { status: 'behind', ahead_by: 0, behind_by: 1, total_commits: 0, commits: [], files: [] })
      .get(`${GH_REPO}/compare/${PARENT}...${DEPLOY_HEAD}`)
      .query(true)
      .reply(200, { status: 'ahead', total_commits: 2, commits: [], files: [] })
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 9 });
    const r = await gate('push', push(), { workspace: workspace(hardPause) });
    expect(r.decision).toMatchObject({
      allowed: true,
      revert_evidence: { kind: 'inverse-diff', reverts: REVERTED },
    });
  });
});
