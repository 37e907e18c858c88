import nock from 'nock';
import { ANCHOR_CHECK_NAME, anchorCommitSha } from '../../src/github/audit-anchor.ts';
import { createOctokit, type GateOctokitInstance, RequestCounter } from '../../src/github/octokit.ts';
import type { AuditEntry } from '../../src/policy/overrides/audit-chain.ts';

export const API = 'https://api.github.test';
export const REPO = { owner: 'acme', repo: 'agents' };

/** An Octokit pointed at nock, counting requests, retrying fast. */
export function testOctokit(): { gh: GateOctokitInstance; counter: RequestCounter } {
  const counter = new RequestCounter();
  const gh = createOctokit({ token: 'ghs_test', baseUrl: API, counter, retryBaseMs: 1, writeGapMs: 0 });
  return { gh, counter };
}

export function api(): nock.Scope {
  return nock(API);
}

/** GitHub's deployments to production: #41 at `sha`, whose newest status is `success`. */
export const lastDeployment = (repoPath: string, sha: string): nock.Scope =>
  api()
    .get(`${repoPath}/deployments`)
    .query({ environment: 'production', per_page: 10 })
    .reply(200, [{ id: 41, sha }])
    .get(`${repoPath}/deployments/41/statuses`)
    .query({ per_page: 1 })
    .reply(200, [{ state: 'success' }]);

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

/**
 * The audit anchor's endpoints for a test that appends with `anchor: true`: the listing of the
 * anchors already written (one per record in `anchored`), then the new anchor's creation.
 * `repoPath` is `/repos/owner/name`.
 */
export function auditAnchors(
  scope: nock.Scope,
  repoPath: string,
  anchored: ReadonlyArray<{ seq: number; hash: string }>,
  audit = { branch: 'budget-gate/audit', path: 'audit.jsonl' },
  /** `app`: the App GitHub names as the new anchor's creator (a GITHUB_TOKEN's is `github-actions`). */
  opts: { anchorsNewHead?: boolean; app?: string } = {},
): nock.Scope {
  const commit = anchorCommitSha(audit).commit;
  const runs = anchored.map((r, i) => ({
    id: 9000 + i,
    name: ANCHOR_CHECK_NAME,
    head_sha: commit,
    external_id: `${r.seq}:${r.hash}`,
    status: 'completed',
    conclusion: 'neutral',
    app: { id: 15368, slug: 'github-actions' },
  }));
  const listed = scope
    .get(`${repoPath}/commits/${commit}/check-runs`)
    .query({ check_name: ANCHOR_CHECK_NAME, filter: 'all', per_page: '100' })
    .reply(200, { total_count: runs.length, check_runs: runs.reverse() });
  if (opts.anchorsNewHead === false) return listed;
  return listed
    .post(`${repoPath}/check-runs`, (b) => b.name === ANCHOR_CHECK_NAME && b.head_sha === commit)
    .reply(201, {
      id: 9999,
      html_url: `https://github.com${repoPath.replace('/repos', '')}/runs/9999`,
      ...(opts.app ? { app: { slug: opts.app } } : {}),
    });
}

/** An override applied by `actor` on pull request `pull` of acme/agents, under `state`. */
export const overrideEntry = (
  pull: number,
  actor = 'sre-lead',
  state: AuditEntry['state'] = 'soft-pause',
): AuditEntry => ({
  kind: 'override-applied',
  repo: 'acme/agents',
  pull_request: pull,
  sha: 'a'.repeat(40),
  label: 'override:slo-wrong',
  reason: 'slo-wrong',
  actor,
  author: 'dev',
  at: '2026-11-20T09:00:00.000Z',
  state,
  message: `override on #${pull}`,
  source: 'action',
});
