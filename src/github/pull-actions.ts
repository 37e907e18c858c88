import { statusOf } from './errors.ts';
import { BODY_CHARS, BODY_NOTE, truncateChars } from './limits.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';
import type { OpenPull } from './revert-pr.ts';

// Pull request writes the bot makes around a revert and a refused override.

/**
 * A pull request or comment body within GitHub's 65,536 characters (GitHub answers 422 "body is
 * too long" past that). A trailing `<!-- marker -->` survives the cut: the bot finds its pull
 * requests by it.
 */
export function boundBody(body: string): string {
  if (body.length <= BODY_CHARS) return body;
  const marker = /\n*<!--[\s\S]*?-->\s*$/.exec(body)?.[0] ?? '';
  return (
    truncateChars(body.slice(0, body.length - marker.length), BODY_CHARS - marker.length, BODY_NOTE) + marker
  );
}

export async function createPull(
  gh: GitHubClient,
  repo: RepoRef,
  pr: { title: string; head: string; base: string; body: string; draft: boolean },
): Promise<OpenPull> {
  const res = await gh.request('POST /repos/{owner}/{repo}/pulls', {
    ...repo,
    ...pr,
    body: boundBody(pr.body),
    maintainer_can_modify: true,
  });
  return {
    number: res.data.number,
    html_url: res.data.html_url,
    node_id: res.data.node_id,
    draft: res.data.draft ?? false,
  };
}

export async function addLabels(
  gh: GitHubClient,
  repo: RepoRef,
  issue: number,
  labels: string[],
): Promise<void> {
  await gh.request('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', {
    ...repo,
    issue_number: issue,
    labels,
  });
}

/** Removing a label that is already gone (someone else removed it) is not an error. */
export async function removeLabel(
  gh: GitHubClient,
  repo: RepoRef,
  issue: number,
  name: string,
): Promise<boolean> {
  try {
    await gh.request('DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', {
      ...repo,
      issue_number: issue,
      name,
    });
    return true;
  } catch (e) {
    if (statusOf(e) === 404) return false;
    throw e;
  }
}

export async function comment(gh: GitHubClient, repo: RepoRef, issue: number, body: string): Promise<void> {
  await gh.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    ...repo,
    issue_number: issue,
    body: boundBody(body),
  });
}

export async function requestReviewers(
  gh: GitHubClient,
  repo: RepoRef,
  pull: number,
  who: { users: string[]; teams: string[] },
): Promise<void> {
  if (who.users.length === 0 && who.teams.length === 0) return;
  await gh.request('POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers', {
    ...repo,
    pull_number: pull,
    reviewers: who.users,
    team_reviewers: who.teams,
  });
}

const ENABLE_AUTO_MERGE = `mutation($id: ID!, $method: PullRequestMergeMethod!) {
  enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: $method }) {
    pullRequest { number autoMergeRequest { enabledAt } }
  }
}`;

/**
 * Turns on auto-merge (GraphQL only). GitHub reports refusals (auto-merge disabled in the
 * repository, no required checks) as `errors` in a 200 answer, so those are thrown here.
 */
export async function enableAutoMerge(
  gh: GitHubClient,
  nodeId: string,
  method: 'SQUASH' | 'MERGE' | 'REBASE' = 'SQUASH',
): Promise<void> {
  const res = await gh.request('POST /graphql', {
    query: ENABLE_AUTO_MERGE,
    variables: { id: nodeId, method },
  });
  const errors = (res.data as { errors?: Array<{ message: string }> }).errors;
  if (errors && errors.length > 0)
    throw new Error(`enablePullRequestAutoMerge: ${errors.map((e) => e.message).join('; ')}`);
}
