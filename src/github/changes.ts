import { isAccessDenied, statusOf } from './errors.ts';
import { filePaths } from './file-paths.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';
import { collectPages } from './paginate.ts';

// What a pull request changes, and when its branch last moved. The deploy side (what a deploy
// ships) is in deploy-diff.ts; both are re-exported here so callers have one place to look.

export { fetchPullsForCommits, type PullSummary } from './commit-pulls.ts';
export {
  type DeployDiff,
  type DeployDiffInput,
  fetchDeployDiff,
  fetchLastSuccessfulDeployment,
  firstParentChain,
} from './deploy-diff.ts';

/** GitHub lists at most 3000 files for a pull request. */
export const PR_FILES_LIMIT = 3000;

export interface ChangedFiles {
  files: string[];
  /** More files changed than GitHub lists: the gate judges what it saw and says so. */
  truncated: boolean;
}

/** The files a pull request touches (renames count as both paths). */
export async function fetchPullRequestFiles(
  gh: GitHubClient,
  repo: RepoRef,
  pullNumber: number,
): Promise<ChangedFiles> {
  const { items, truncated } = await collectPages(
    (page) =>
      gh.request('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', {
        ...repo,
        pull_number: pullNumber,
        per_page: 100,
        page,
      }),
    PR_FILES_LIMIT,
  );
  return { files: filePaths(items), truncated: truncated || items.length >= PR_FILES_LIMIT };
}

const PUSH_ACTIVITY = new Set(['push', 'force_push', 'branch_creation']);

/**
 * When the branch last received commits, from the repository activity API: the server's clock,
 * unlike commit dates, which the pusher writes. `null` when the activity cannot be read (the
 * override rules then decide how to treat an unknown push time).
 */
export async function fetchLastPushAt(
  gh: GitHubClient,
  repo: RepoRef,
  branch: string,
): Promise<number | null> {
  try {
    const res = await gh.request('GET /repos/{owner}/{repo}/activity', {
      ...repo,
      ref: branch.startsWith('refs/') ? branch : `refs/heads/${branch}`,
      direction: 'desc',
      per_page: 20,
    });
    const last = res.data.find((a) => PUSH_ACTIVITY.has(a.activity_type));
    return last ? Date.parse(last.timestamp) : null;
  } catch (e) {
    const status = statusOf(e);
    if (isAccessDenied(e) || status === 404 || status === 422) return null;
    throw e;
  }
}

/**
 * The head commit's committer date: the fallback when the activity API cannot be read. The pusher
 * writes this date, so callers say they used it.
 */
export async function fetchCommitDate(gh: GitHubClient, repo: RepoRef, sha: string): Promise<number | null> {
  try {
    const res = await gh.request('GET /repos/{owner}/{repo}/commits/{ref}', {
      ...repo,
      ref: sha,
      per_page: 1,
    });
    const date = res.data.commit.committer?.date;
    return date ? Date.parse(date) : null;
  } catch (e) {
    if (statusOf(e) === 404 || isAccessDenied(e)) return null;
    throw e;
  }
}
