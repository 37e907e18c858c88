import { isAccessDenied, statusOf } from './errors.ts';
import { filePaths } from './file-paths.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';
import { collectPages } from './paginate.ts';

// What a pull request changes, and when its branch last moved. The deploy side (what a deploy
// ships) is in deploy-diff.ts.

/** GitHub lists at most 3000 files for a pull request. */
const PR_FILES_LIMIT = 3000;

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

/** When the branch last received commits, or why GitHub could not say. */
export type LastPush = { at: number; why: null } | { at: null; why: string; refused: boolean };

/**
 * When the branch last received commits, from the repository activity API: the server's clock,
 * unlike commit dates, which the pusher writes (so those are never used in its place). When the
 * activity cannot be read, `why` says what GitHub answered; the override rules refuse an override
 * they cannot place after the last push.
 */
export async function fetchLastPushAt(gh: GitHubClient, repo: RepoRef, branch: string): Promise<LastPush> {
  const ref = branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
  const call = `GET /repos/${repo.owner}/${repo.repo}/activity?ref=${ref}`;
  try {
    const res = await gh.request('GET /repos/{owner}/{repo}/activity', {
      ...repo,
      ref,
      direction: 'desc',
      per_page: 20,
    });
    const last = res.data.find((a) => PUSH_ACTIVITY.has(a.activity_type));
    return last
      ? { at: Date.parse(last.timestamp), why: null }
      : {
          at: null,
          why: `${call} lists no push among the branch's newest ${res.data.length} activities`,
          refused: false,
        };
  } catch (e) {
    const status = statusOf(e);
    if (isAccessDenied(e) || status === 404 || status === 422)
      return { at: null, why: `${call} answered ${status}`, refused: true };
    throw e;
  }
}
