import type { GitHubClient, RepoRef } from '../../github/octokit.ts';

// The two revert steps GitHub does not make idempotent: a second deployment status or comment is a
// second one. When an earlier attempt may have done them (it died before recording it), these
// reads ask GitHub first. Comments carry a hidden marker; statuses are known by their description.

export const commentMarker = (kind: 'reverting' | 'revert-failed', deploymentId: number) =>
  `<!-- budget-gate:${kind} deployment=${deploymentId} -->`;

/** True when the issue or pull request has a comment containing `marker` (newest 100 looked at). */
export async function hasComment(
  gh: GitHubClient,
  repo: RepoRef,
  issue: number,
  marker: string,
  since: number,
): Promise<boolean> {
  const res = await gh.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    ...repo,
    issue_number: issue,
    // Comments updated since the breach was recorded: ours, if any, is among them.
    since: new Date(since).toISOString(),
    per_page: 100,
  });
  return res.data.some((c) => (c.body ?? '').includes(marker));
}

/** True when the deployment has a status in `state` whose description starts with `prefix`. */
export async function hasDeploymentStatus(
  gh: GitHubClient,
  repo: RepoRef,
  deploymentId: number,
  state: string,
  prefix: string,
): Promise<boolean> {
  const res = await gh.request('GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
    ...repo,
    deployment_id: deploymentId,
    per_page: 100,
  });
  return res.data.some((s) => s.state === state && (s.description ?? '').startsWith(prefix));
}
