import { clip, setDeploymentStatus } from '../../github/deployment-status.ts';
import type { GitHubClient, RepoRef } from '../../github/octokit.ts';
import { comment } from '../../github/pull-actions.ts';
import type { Watch } from '../../policy/canary/ports.ts';
import { formatDuration } from '../../policy/time/duration.ts';
import type { Evidence } from '../evidence.ts';
import { revertBranch } from './body.ts';
import { commentMarker, hasComment, hasDeploymentStatus } from './checks.ts';
import type { RevertProgress } from './progress.ts';

// A revert that kept failing ends `failed`, and says so where people look: the deployment's status
// (state `error`, the error in the description) and a comment on the pull request that shipped it,
// with what to do by hand. Both are checked against GitHub first, so a crash between telling and
// recording the end tells once.

const FAILED_STATUS_PREFIX = 'budget-gate: revert failed';

export interface RevertFailure {
  attempts: number;
  error: string;
  progress: RevertProgress;
}

function failedComment(w: Watch, e: Evidence, f: RevertFailure): string {
  const pr = f.progress.pr;
  return [
    `> [!CAUTION]`,
    `> **budget-gate could not revert this change: revert it by hand.** Deployment ${w.deployment_id} (\`${w.sha.slice(0, 7)}\` to \`${w.environment}\`) breached its auto-revert line ${formatDuration(Math.max(0, e.detected_at - e.deployed_at))} after going live, and ${f.attempts} revert attempt(s) failed.`,
    '',
    `**Breach:** ${e.message}`,
    '',
    `**Last error:** ${f.error}`,
    '',
    pr
      ? `The revert pull request ${pr.html_url} exists but is incomplete: check its labels, reviewers and merge settings.`
      : `No revert pull request was opened: revert \`${w.sha.slice(0, 7)}\` by hand (delete the branch \`${revertBranch(w.deployment_id)}\` if it exists) and open one; reverts always pass the budget gate.`,
    ...(e.runbook ? ['', `Runbook: ${e.runbook.url}`] : []),
    '',
    commentMarker('revert-failed', w.deployment_id),
  ].join('\n');
}

export async function reportRevertFailed(
  gh: GitHubClient,
  w: Watch,
  e: Evidence,
  f: RevertFailure,
): Promise<void> {
  const repo: RepoRef = { owner: w.owner, repo: w.repo };
  if (!(await hasDeploymentStatus(gh, repo, w.deployment_id, 'error', FAILED_STATUS_PREFIX))) {
    await setDeploymentStatus(gh, repo, w.deployment_id, {
      state: 'error',
      environment: w.environment,
      ...(f.progress.pr ? { log_url: f.progress.pr.html_url } : {}),
      description: clip(`${FAILED_STATUS_PREFIX} (${f.attempts} attempts): ${f.error}`, 140),
    });
  }
  const n = w.pull_number;
  if (
    n !== null &&
    !(await hasComment(gh, repo, n, commentMarker('revert-failed', w.deployment_id), e.detected_at))
  ) {
    await comment(gh, repo, n, failedComment(w, e, f));
  }
}
