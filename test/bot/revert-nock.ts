import nock from 'nock';
import {
  API,
  DEPLOYED_SHA,
  DEPLOYMENT_ID,
  gitBlobSha,
  PREVIOUS_SHA,
  REPO_PATH,
  SHIPPED_PR,
} from './support.ts';

// GitHub as the revert sees it: the deployment changed three files (one modified, one added, one
// renamed) against the previous deployment, and the default branch moved on by one commit.

/** The deployment against the previous one, as GitHub's compare answers. */
export const SHIPPED_COMPARE = {
  status: 'ahead',
  total_commits: 2,
  commits: [],
  files: [
    { filename: 'prompts/refund.md', status: 'modified' },
    { filename: 'prompts/new-tool.md', status: 'added' },
    { filename: 'config/model.yml', status: 'renamed', previous_filename: 'config/model-old.yml' },
  ],
};
export const OLD_REFUND = 'You are a careful refunds agent.\nAlways confirm the order id before refunding.\n';
export const OLD_MODEL = 'model: agent-large-2025-10\ntemperature: 0.2\n';
export const TIP = 'c'.repeat(40);
export const TIP_TREE = 'd'.repeat(40);
export const NEW_TREE = 'e'.repeat(40);
export const NEW_COMMIT = '1'.repeat(40);
export const REVERT_PR = 99;
export const BRANCH = `budget-gate/revert-${DEPLOYMENT_ID}`;

export interface Captured {
  tree?: any;
  commit?: any;
  ref?: any;
  pull?: any;
  labels?: any;
  reviewers?: any;
  graphql?: any;
  status?: any;
  comment?: any;
  requests: string[];
}

export interface RevertNockOptions {
  /** Paths a commit after the deployment also changed. */
  later?: string[];
  /** The ref exists already: another replica holds the lock; its PR is `existingPr` (or none yet). */
  refExists?: boolean;
  existingPr?: number | null;
  /** With an existing PR: what the earlier attempt had already done on GitHub without recording it. */
  alreadyDone?: { status?: boolean; comment?: boolean };
}

export function nockRevert(o: RevertNockOptions = {}): Captured {
  const c: Captured = { requests: [] };
  const keep = (k: Exclude<keyof Captured, 'requests'>) => (body: unknown) => {
    c[k] = body;
    return true;
  };
  const scope = nock(API)
    .get(`${REPO_PATH}/compare/${PREVIOUS_SHA}...${DEPLOYED_SHA}`)
    .reply(200, SHIPPED_COMPARE)
    .get(`${REPO_PATH}/branches/master`)
    .reply(200, { name: 'master', commit: { sha: TIP, commit: { tree: { sha: TIP_TREE } } } })
    .get(`${REPO_PATH}/compare/${DEPLOYED_SHA}...${TIP}`)
    .reply(200, {
      status: 'ahead',
      total_commits: 1,
      commits: [],
      files: [
        { filename: 'README.md', status: 'modified' },
        ...(o.later ?? []).map((f) => ({ filename: f, status: 'modified' })),
      ],
    })
    .get(`${REPO_PATH}/git/trees/${PREVIOUS_SHA}`)
    .query({ recursive: '1' })
    .reply(200, {
      sha: PREVIOUS_SHA,
      truncated: false,
      tree: [
        { path: 'README.md', mode: '100644', type: 'blob', sha: gitBlobSha('# agents\n') },
        { path: 'config', mode: '040000', type: 'tree', sha: 'f'.repeat(40) },
        { path: 'config/model-old.yml', mode: '100644', type: 'blob', sha: gitBlobSha(OLD_MODEL) },
        { path: 'prompts', mode: '040000', type: 'tree', sha: 'b'.repeat(40) },
        { path: 'prompts/refund.md', mode: '100644', type: 'blob', sha: gitBlobSha(OLD_REFUND) },
        { path: 'scripts/run.sh', mode: '100755', type: 'blob', sha: gitBlobSha('#!/bin/sh\n') },
      ],
    })
    .post(`${REPO_PATH}/git/trees`, keep('tree'))
    .reply(201, { sha: NEW_TREE, tree: [] })
    .post(`${REPO_PATH}/git/commits`, keep('commit'))
    .reply(201, { sha: NEW_COMMIT })
    .post(`${REPO_PATH}/git/refs`, keep('ref'))
    .reply(
      o.refExists ? 422 : 201,
      o.refExists
        ? { message: 'Reference already exists', status: '422' }
        : { ref: `refs/heads/${BRANCH}`, object: { sha: NEW_COMMIT } },
    );
  if (o.refExists) {
    scope
      .get(`${REPO_PATH}/pulls`)
      .query({ head: `Codertocat:${BRANCH}`, state: 'all', per_page: 1 })
      .reply(
        200,
        o.existingPr
          ? [
              {
                number: o.existingPr,
                html_url: `https://github.com/Codertocat/Hello-World/pull/${o.existingPr}`,
                node_id: 'PR_x',
                draft: false,
              },
            ]
          : [],
      );
  }
  const draft = (o.later ?? []).length > 0;
  const existing = o.refExists && o.existingPr ? o.existingPr : null;
  const pr = existing ?? REVERT_PR;
  if (existing === null) {
    scope.post(`${REPO_PATH}/pulls`, keep('pull')).reply(201, {
      number: REVERT_PR,
      html_url: `https://github.com/Codertocat/Hello-World/pull/${REVERT_PR}`,
      node_id: 'PR_kwDOrevert',
      draft,
    });
  }
  scope
    .post(`${REPO_PATH}/issues/${pr}/labels`, keep('labels'))
    .reply(200, [])
    .post(`${REPO_PATH}/pulls/${pr}/requested_reviewers`, keep('reviewers'))
    .reply(201, {});
  if (!draft) {
    scope.post('/graphql', keep('graphql')).reply(200, {
      data: {
        enablePullRequestAutoMerge: {
          pullRequest: { number: pr, autoMergeRequest: { enabledAt: 'now' } },
        },
      },
    });
  }
  if (existing !== null) {
    // The PR was an earlier attempt's: GitHub is asked whether the status and comment exist.
    scope
      .get(`${REPO_PATH}/deployments/${DEPLOYMENT_ID}/statuses`)
      .query({ per_page: 100 })
      .reply(
        200,
        o.alreadyDone?.status
          ? [{ state: 'failure', description: `budget-gate: reverted in #${pr}: tasks-success burned` }]
          : [{ state: 'success', description: 'Deployed' }],
      )
      .get(`${REPO_PATH}/issues/${SHIPPED_PR}/comments`)
      .query(true)
      .reply(
        200,
        o.alreadyDone?.comment
          ? [
              {
                body: `budget-gate is reverting\n\n<!-- budget-gate:reverting deployment=${DEPLOYMENT_ID} -->`,
              },
            ]
          : [{ body: 'LGTM' }],
      );
  }
  if (!o.alreadyDone?.status) {
    scope.post(`${REPO_PATH}/deployments/${DEPLOYMENT_ID}/statuses`, keep('status')).reply(201, {});
  }
  if (!o.alreadyDone?.comment) {
    scope.post(`${REPO_PATH}/issues/${SHIPPED_PR}/comments`, keep('comment')).reply(201, {});
  }
  scope.on('request', (req: { method: string; url: string }) => {
    c.requests.push(`${req.method} ${new URL(req.url).pathname}`);
  });
  return c;
}
