import type { GitHubClient, RepoRef } from './octokit.ts';

/** The parts of a pull request a deploy's gate needs: its labels, author, branch and title. */
export interface PullSummary {
  number: number;
  title: string;
  author: string | null;
  labels: string[];
  head_ref: string;
  head_sha: string;
  /** Where the head branch lives (a fork for outside contributions); null when the fork is gone. */
  head_repo: RepoRef | null;
  merged_at: string | null;
}

interface PullLike {
  number: number;
  title: string;
  user: { login: string } | null;
  labels: ReadonlyArray<{ name?: string } | string>;
  head: { ref: string; sha: string; repo: { name: string; owner: { login: string } } | null };
  merged_at?: string | null;
}

function summarizePull(pr: PullLike): PullSummary {
  return {
    number: pr.number,
    title: pr.title,
    author: pr.user?.login ?? null,
    labels: pr.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter((n) => n !== ''),
    head_ref: pr.head.ref,
    head_sha: pr.head.sha,
    head_repo: pr.head.repo ? { owner: pr.head.repo.owner.login, repo: pr.head.repo.name } : null,
    merged_at: pr.merged_at ?? null,
  };
}

/**
 * The pull requests that brought these commits in, one request per commit, newest commit first,
 * at most `maxCommits` requests. For a commit on the default branch GitHub answers with the merged
 * pull request that introduced it.
 */
export async function fetchPullsForCommits(
  gh: GitHubClient,
  repo: RepoRef,
  shas: readonly string[],
  maxCommits = 10,
): Promise<{ pulls: PullSummary[]; unchecked: number }> {
  const byNumber = new Map<number, PullSummary>();
  const checked = shas.slice(0, maxCommits);
  for (const sha of checked) {
    const res = await gh.request('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', {
      ...repo,
      commit_sha: sha,
      per_page: 10,
    });
    for (const pr of res.data) {
      if (!byNumber.has(pr.number)) byNumber.set(pr.number, summarizePull(pr));
    }
  }
  return { pulls: [...byNumber.values()], unchecked: shas.length - checked.length };
}
