import { z } from 'zod';
import type { GitHubClient, RepoRef } from './octokit.ts';
import { collectPages } from './paginate.ts';
import { parseReply } from './reply.ts';

// A pull request's commits as GitHub lists them: who authored and committed each (an account, or
// null for an email GitHub links to none), its message and signature. Read for revert evidence (the
// App's own pull request) and for who may not approve an override (contributors.ts).

// GitHub sends null for a commit whose email maps to no account; a missing field reads the same.
const login = z.object({ login: z.string() }).nullish();
const gitUser = z.object({ name: z.string().nullish(), email: z.string().nullish() }).nullish();
const pullCommitSchema = z.object({
  sha: z.string(),
  commit: z.object({
    message: z.string(),
    author: gitUser,
    committer: gitUser,
    verification: z.object({ verified: z.boolean() }).nullable().optional(),
  }),
  author: login,
  committer: login,
});
export type PullCommit = z.output<typeof pullCommitSchema>;

/** GitHub lists at most 250 commits of a pull request, whatever the pages. */
export const PULL_COMMITS_LISTED = 250;

export interface PullCommits {
  /** Oldest first. */
  commits: PullCommit[];
  /** GitHub listed 250: there may be more it does not list, so the list cannot vouch for all. */
  truncated: boolean;
}

/** The pull request's commits, oldest first, in pages of 100 up to the 250 GitHub lists. */
export async function fetchPullCommits(
  gh: GitHubClient,
  repo: RepoRef,
  number: number,
): Promise<PullCommits> {
  const call = `GET /repos/${repo.owner}/${repo.repo}/pulls/${number}/commits`;
  const { items } = await collectPages(
    (page) =>
      gh.request('GET /repos/{owner}/{repo}/pulls/{pull_number}/commits', {
        ...repo,
        pull_number: number,
        per_page: 100,
        ...(page > 1 ? { page } : {}),
      }),
    PULL_COMMITS_LISTED,
  );
  const commits = parseReply(z.array(pullCommitSchema), items, call);
  return { commits, truncated: commits.length >= PULL_COMMITS_LISTED };
}
