import type { GitHubClient, RepoRef } from './octokit.ts';

// A pull request as it is now, not as a webhook delivery described it: a delivery can be replayed
// or arrive late, and acting on its snapshot would undo what people did since.

export interface PullState {
  labels: string[];
  author: string | null;
  head_sha: string;
  base_sha: string;
  state: string;
}

export async function fetchPullState(gh: GitHubClient, repo: RepoRef, number: number): Promise<PullState> {
  const res = await gh.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
    ...repo,
    pull_number: number,
  });
  const pr = res.data;
  return {
    labels: pr.labels.map((l) => l.name),
    author: pr.user?.login ?? null,
    head_sha: pr.head.sha,
    base_sha: pr.base.sha,
    state: pr.state,
  };
}
