import { clip, setDeploymentStatus } from '../github/deployment-status.ts';
import { needing } from '../github/errors.ts';
import type { GitHubClient, RepoRef } from '../github/octokit.ts';
import { addLabels, comment, createPull, enableAutoMerge, requestReviewers } from '../github/pull-actions.ts';
import {
  findPullForBranch,
  type OpenPull,
  planRevertCommit,
  writeRevertBranch,
} from '../github/revert-pr.ts';
import type { Policy } from '../policy/schema.ts';
import type { Evidence } from './evidence.ts';
import type { BotLog } from './log.ts';
import {
  commitMessage,
  REVERT_LABELS,
  revertBody,
  revertBranch,
  revertTitle,
  shippedComment,
} from './revert-body.ts';
import type { Watch } from './store/watch.ts';
import type { RevertResult } from './watcher.ts';

// Opens the revert for a breached deployment. The branch is the lock: its name derives from the
// deployment id, so a second delivery or replica finds the branch taken and returns the pull
// request already open. Steps after the pull request (labels, reviewers, auto-merge, deployment
// status, comment) are each allowed to fail with a warning: the revert itself is what matters.

export async function openRevert(
  gh: GitHubClient,
  w: Watch,
  e: Evidence,
  policy: Policy,
  log: BotLog,
): Promise<RevertResult> {
  const repo: RepoRef = { owner: w.owner, repo: w.repo };
  const branch = revertBranch(w.deployment_id);
  let previous = w.previous_sha;
  let previousNote: string | null = null;
  if (previous === null) {
    // A first deployment has no predecessor: undo the deployed commit itself.
    const c = await needing('contents: read', `GET /repos/${w.owner}/${w.repo}/commits/${w.sha}`, () =>
      gh.request('GET /repos/{owner}/{repo}/commits/{ref}', { ...repo, ref: w.sha, per_page: 1 }),
    );
    previous = c.data.parents[0]?.sha ?? null;
    if (previous === null)
      throw new Error(
        `deployment ${w.deployment_id}: ${w.sha} has no parent and no earlier deployment to return to`,
      );
    previousNote = `no earlier successful deployment to ${w.environment}: the deployed commit's parent`;
  }

  const plan = await planRevertCommit(gh, repo, { previous, deployed: w.sha, branch: w.default_branch });
  const manual = plan.conflicts.length > 0;
  const written = await writeRevertBranch(gh, repo, plan, branch, commitMessage(w, e, previous));
  if (written.existed) {
    const found = await findPullForBranch(gh, repo, branch);
    if (found) {
      log.info(`deployment ${w.deployment_id}: ${branch} exists, revert already open as #${found.number}`);
      return { pull_number: found.number, url: found.html_url, existing: true, draft: found.draft };
    }
    // The branch's creator stopped before opening the pull request: open it on their branch.
    log.warn(`deployment ${w.deployment_id}: ${branch} exists without a pull request; opening one`);
  }

  const autoMerge = policy.auto_revert.merge === 'auto';
  const pr: OpenPull = await createPull(gh, repo, {
    title: revertTitle(w, manual),
    head: branch,
    base: w.default_branch,
    draft: manual,
    body: revertBody({
      watch: w,
      evidence: e,
      previous,
      previous_note: previousNote,
      entries: plan.entries,
      conflicts: plan.conflicts,
      warnings: plan.warnings,
      auto_merge: autoMerge,
    }),
  });

  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      log.warn(`revert #${pr.number}: could not ${what}: ${(err as Error).message}`);
    }
  };
  await attempt('label it', () => addLabels(gh, repo, pr.number, REVERT_LABELS));
  await attempt('request review from the on-call', () =>
    requestReviewers(gh, repo, pr.number, policy.oncall),
  );
  if (autoMerge && !manual) await attempt('enable auto-merge', () => enableAutoMerge(gh, pr.node_id));
  await attempt('mark the deployment failed', () =>
    setDeploymentStatus(gh, repo, w.deployment_id, {
      state: 'failure',
      environment: w.environment,
      log_url: pr.html_url,
      description: clip(`budget-gate: reverted in #${pr.number}: ${e.message}`, 140),
    }),
  );
  if (w.pull_number !== null) {
    const n = w.pull_number;
    await attempt(`comment on #${n}`, () => comment(gh, repo, n, shippedComment(w, e, pr.html_url, manual)));
  }
  return { pull_number: pr.number, url: pr.html_url, existing: false, draft: manual };
}
