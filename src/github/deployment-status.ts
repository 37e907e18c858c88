import type { GitHubClient, RepoRef } from './octokit.ts';

// The bot's writes about deployments: a status on the deployment it reverted, and the answer to a
// custom deployment protection rule.

/** GitHub cuts deployment status descriptions at 140 characters. */
const DESCRIPTION_MAX = 140;

export const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

export async function setDeploymentStatus(
  gh: GitHubClient,
  repo: RepoRef,
  deploymentId: number,
  status: {
    /** `success` for a deployment that stays live (a shadow-mode verdict). */
    state: 'failure' | 'error' | 'inactive' | 'success';
    description: string;
    environment: string;
    log_url?: string;
  },
): Promise<void> {
  await gh.request('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
    ...repo,
    deployment_id: deploymentId,
    state: status.state,
    description: clip(status.description, DESCRIPTION_MAX),
    environment: status.environment,
    ...(status.log_url ? { log_url: status.log_url } : {}),
  });
}

/** The comment GitHub shows with a protection rule's verdict; kept short, the details are in the logs. */
const COMMENT_MAX = 1000;

/**
 * Approves or rejects a deployment waiting on this app's protection rule, through the callback URL
 * GitHub sent (`POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule`).
 */
export async function answerProtectionRule(
  gh: GitHubClient,
  callbackUrl: string,
  answer: { environment: string; state: 'approved' | 'rejected'; comment: string },
): Promise<void> {
  await gh.request({
    method: 'POST',
    url: callbackUrl,
    environment_name: answer.environment,
    state: answer.state,
    comment: clip(answer.comment, COMMENT_MAX),
  });
}
