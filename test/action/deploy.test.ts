import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEMO_POLICY } from '../../src/scenarios/demo.ts';
import { api, auditAnchors, lastDeployment as nockLastDeployment } from '../github/helpers.ts';
import { useNock } from '../support/nock.ts';
import {
  AT,
  contentsReply,
  GH_REPO,
  gate,
  HOUR,
  hardPause,
  labeled,
  nockAuthorship,
  nockHeadCommitOnly,
  nockPolicyAt,
  payload,
  workspace,
} from './support.ts';

// The gate as a deploy step: what ships is the diff against the environment's last successful
// deployment (Deployments API), else the push's before..after. Payloads from webhooks-examples;
// adapted: the push's ref and before (the example pushes a new tag).

const BASE = 'b'.repeat(40);
const HEAD = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
function push() {
  const body = payload('push');
  body.ref = 'refs/heads/main';
  body.before = 'c'.repeat(40);
  return body;
}
const commit = (sha: string, message: string, parents = ['p'.repeat(40)]) => ({
  sha,
  commit: { message },
  author: { login: 'dev' },
  parents: parents.map((p) => ({ sha: p })),
});
const lastDeployment = () => nockLastDeployment(GH_REPO, BASE);

useNock('all-called');

describe('the gate on a push-triggered deploy', () => {
  it('judges what ships since the last successful deployment: a prompt change is held under SOFT-PAUSE', async () => {
    let check: unknown;
    lastDeployment()
      .get(`${GH_REPO}/compare/${BASE}...${HEAD}`)
      .reply(200, {
        status: 'ahead',
        total_commits: 1,
        commits: [commit(HEAD, 'Rewrite the refund prompt')],
        files: [{ filename: 'prompts/refund.md', status: 'modified' }],
      })
      .get(`${GH_REPO}/commits/${HEAD}/pulls`)
      .query({ per_page: 10 })
      .reply(200, [])
      .post(`${GH_REPO}/check-runs`, (b) => {
        check = b;
        return true;
      })
      .reply(201, { id: 1 });
    const r = await gate('push', push());
    expect(r.decision).toMatchObject({ state: 'soft-pause', allowed: false, risk: 'high' });
    expect(r.decision.risk_files).toEqual([
      { path: 'prompts/refund.md', class: 'high', rule: 'risk.rules[0]' },
    ]);
    expect(check).toMatchObject({ head_sha: HEAD, conclusion: 'failure' });
    // deployments, its status, compare, the policy in force at what runs now, the PR behind the
    // commit (blocked: could an override apply?), check run
    expect(r.requests).toBe(6);
  });

  it('honours an override on the pull request the deploy ships', async () => {
    lastDeployment()
      .get(`${GH_REPO}/compare/${BASE}...${HEAD}`)
      .reply(200, {
        status: 'ahead',
        total_commits: 1,
        commits: [commit(HEAD, 'Rewrite the refund prompt (#7)')],
        files: [{ filename: 'prompts/refund.md', status: 'modified' }],
      })
      .get(`${GH_REPO}/commits/${HEAD}/pulls`)
      .query(true)
      .reply(200, [
        {
          number: 7,
          title: 'Rewrite the refund prompt',
          user: { login: 'dev' },
          labels: [{ name: 'override:regulatory' }],
          head: {
            ref: 'refund-prompt',
            sha: 'd'.repeat(40),
            repo: { name: 'Hello-World', owner: { login: 'Codertocat' } },
          },
          merged_at: new Date(AT - HOUR).toISOString(),
        },
      ])
      .get(`${GH_REPO}/issues/7/events`)
      .query(true)
      .reply(200, labeled('override:regulatory', 'sre-lead', AT - 2 * HOUR));
    nockAuthorship(7, 'dev', AT - 3 * HOUR);
    api()
      .get(`${GH_REPO}/contents/audit.jsonl`)
      .query(true)
      .reply(404, {})
      .post(`${GH_REPO}/git/trees`)
      .reply(201, { sha: 't', tree: [{ path: 'audit.jsonl', sha: 'blob' }] })
      .post(`${GH_REPO}/git/commits`)
      .reply(201, { sha: 'c1' })
      .post(`${GH_REPO}/git/refs`)
      .reply(201, {});
    auditAnchors(api(), GH_REPO, []);
    api().post(`${GH_REPO}/check-runs`).reply(201, { id: 2 });
    const r = await gate('push', push());
    expect(r.decision).toMatchObject({
      allowed: true,
      override: { reason: 'regulatory', applied_by: 'sre-lead' },
    });
    expect(r.audit?.record).toMatchObject({ pull_request: 7, author: 'dev', sha: HEAD });
  });

  it('under HARD-PAUSE holds a low-risk deploy', async () => {
    lastDeployment()
      .get(`${GH_REPO}/compare/${BASE}...${HEAD}`)
      .reply(200, {
        status: 'ahead',
        total_commits: 1,
        commits: [commit(HEAD, 'Fix a typo')],
        files: [{ filename: 'docs/x.md', status: 'modified' }],
      })
      .get(`${GH_REPO}/commits/${HEAD}/pulls`)
      .query(true)
      .reply(200, [])
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 3 });
    const held = await gate('push', push(), { workspace: workspace(hardPause) });
    expect(held.decision).toMatchObject({ state: 'hard-pause', allowed: false, risk: 'low' });
  });

  it('without a deployment history compares the push’s before..after, and says so', async () => {
    api()
      .get(`${GH_REPO}/deployments`)
      .query(true)
      .reply(200, [])
      .get(`${GH_REPO}/compare/${'c'.repeat(40)}...${HEAD}`)
      .reply(200, {
        status: 'ahead',
        total_commits: 1,
        commits: [commit(HEAD, 'UI')],
        files: [{ filename: 'src/ui/a.tsx', status: 'added' }],
      })
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 5 });
    const r = await gate('push', push());
    expect(r.decision.allowed).toBe(true);
    expect(r.decision.warnings).toContain(
      'no successful deployment to production found: comparing with the push instead',
    );
  });

  it('on a deployment event gates that deployment’s environment and sha', async () => {
    const body = payload('deployment');
    const sha = body.deployment.sha as string;
    api()
      .get(`${GH_REPO}/deployments`)
      .query(true)
      .reply(200, [
        { id: body.deployment.id, sha },
        { id: 41, sha: BASE },
      ])
      .get(`${GH_REPO}/deployments/41/statuses`)
      .query(true)
      .reply(200, [{ state: 'success' }])
      .get(`${GH_REPO}/compare/${BASE}...${sha}`)
      .reply(200, {
        status: 'ahead',
        total_commits: 1,
        commits: [commit(sha, 'Swap the model')],
        files: [{ filename: 'models/router.yml', status: 'modified' }],
      })
      .get(`${GH_REPO}/commits/${sha}/pulls`)
      .query(true)
      .reply(200, [])
      .post(`${GH_REPO}/check-runs`, (b) => b.head_sha === sha)
      .reply(201, { id: 6 });
    const r = await gate('deployment', body);
    expect(r.decision).toMatchObject({ state: 'soft-pause', allowed: false, risk: 'high' });
  });

  it("an environment's first deploy is judged by the policy at the deployed commit's parent, not its own copy", async () => {
    const sha = 'f'.repeat(40);
    const parent = 'e'.repeat(40);
    const demo = readFileSync(DEMO_POLICY, 'utf8');
    const lowered = demo.replace(
      '      class: high\n      description: prompt rewrites',
      '      class: low\n      description: prompt rewrites',
    );
    expect(lowered).not.toBe(demo);
    nockHeadCommitOnly(sha, {
      message: 'Rewrite the refund prompt and relax its rule',
      parent,
      files: ['prompts/refund.md', '.github/error-budget.yml'],
    })
      // The commit's own copy, read at the deployed sha.
      .get(`${GH_REPO}/contents/${encodeURIComponent('.github/error-budget.yml')}`)
      .query({ ref: sha })
      .reply(200, contentsReply(lowered))
      .get(`${GH_REPO}/commits/${sha}/pulls`)
      .query(true)
      .reply(200, [])
      .post(`${GH_REPO}/check-runs`, (b) => b.head_sha === sha)
      .reply(201, { id: 9 });
    nockPolicyAt(demo, parent);
    // The checkout (the deployed commit) carries the lowered rule: it only shows in the summary.
    const r = await gate(
      'workflow_dispatch',
      { inputs: {} },
      { workspace: workspace(() => lowered), inForce: false },
    );
    expect(r.decision).toMatchObject({ state: 'soft-pause', allowed: false, risk: 'high' });
    expect(r.decision.reasons.map((x) => x.code)).toEqual(['soft-pause', 'policy-loosened', 'high-risk']);
    expect(r.change.policy_change?.in_force_at).toBe(parent);
    expect(r.markdown).toContain(
      "Judged by .github/error-budget.yml at eeeeeee, the deployed commit's parent (nothing was deployed before).",
    );
    expect(r.markdown).toMatch(/under its own policy this change would be allowed/);
  });
});
