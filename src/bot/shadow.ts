import { clip, setDeploymentStatus } from '../github/deployment-status.ts';
import type { GitHubClient, RepoRef } from '../github/octokit.ts';
import { comment } from '../github/pull-actions.ts';
import type { Watch } from '../policy/canary/ports.ts';
import type { Evidence } from './evidence.ts';
import type { BotLog } from './log.ts';
import { shadowComment } from './revert/body.ts';

// Shadow mode's report of a revert it did not open: a deployment status (the deployment stays live,
// so `success`, with the verdict in the description) and a comment on the pull request that
// shipped it. Each step may fail with a warning; the watcher records the verdict either way.

export interface ShadowResult {
  status: boolean;
  commented: boolean;
}

export async function reportShadow(
  gh: GitHubClient,
  w: Watch,
  e: Evidence,
  log: BotLog,
): Promise<ShadowResult> {
  const repo: RepoRef = { owner: w.owner, repo: w.repo };
  const out: ShadowResult = { status: false, commented: false };
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
      return true;
    } catch (err) {
      log.warn(`deployment ${w.deployment_id} (shadow): could not ${what}: ${(err as Error).message}`);
      return false;
    }
  };
  if (w.pull_number !== null) {
    const n = w.pull_number;
    out.commented = await attempt(`comment on #${n}`, () => comment(gh, repo, n, shadowComment(w, e)));
  }
  out.status = await attempt('post the deployment status', () =>
    setDeploymentStatus(gh, repo, w.deployment_id, {
      state: 'success',
      environment: w.environment,
      description: clip(`budget-gate shadow: would revert: ${e.message}`, 140),
      ...(w.pull_number !== null
        ? { log_url: `https://github.com/${w.owner}/${w.repo}/pull/${w.pull_number}` }
        : {}),
    }),
  );
  return out;
}
