import { clip, setDeploymentStatus } from '../../github/deployment-status.ts';
import { statusOf } from '../../github/errors.ts';
import type { GitHubClient, RepoRef } from '../../github/octokit.ts';
import {
  addLabels,
  comment,
  createPull,
  enableAutoMerge,
  requestReviewers,
} from '../../github/pull-actions.ts';
import {
  findPullForBranch,
  type OpenPull,
  planRevertCommit,
  writeRevertBranch,
} from '../../github/revert-pr.ts';
import type { Watch } from '../../policy/canary/ports.ts';
import type { Policy } from '../../policy/spec/schema.ts';
import type { Evidence } from '../evidence.ts';
import type { BotLog } from '../log.ts';
import type { RevertResult } from '../watcher.ts';
import {
  commitMessage,
  REVERT_LABELS,
  revertBody,
  revertBranch,
  revertTitle,
  shippedComment,
} from './body.ts';
import { commentMarker, hasComment, hasDeploymentStatus } from './checks.ts';
import { memoryContext, type RevertContext, type RevertProgress, type RevertStep } from './progress.ts';

// Opens the revert for a breached deployment, resumably. The branch is the lock: its name derives
// from the deployment id, so a second attempt or replica finds the branch taken and carries on with
// the pull request already open. Every step after the pull request (labels, reviewers, auto-merge,
// the deployment's status, the comment on the shipping PR) is recorded in the store once done, so a
// retry after a crash does only the steps left; a step an earlier attempt may have done without
// recording it is checked against GitHub first where doing it twice would show twice.

/** Deployment status descriptions the bot writes start so, which is how a retry recognizes them. */
const revertedStatusPrefix = (pr: number) => `budget-gate: reverted in #${pr}`;

/** GitHub refused for good (no permission, not a collaborator, auto-merge off): retrying cannot help. */
function permanent(e: unknown): boolean {
  const s = statusOf(e);
  if (s === null) return /^enablePullRequestAutoMerge:/.test((e as Error).message ?? '');
  return s >= 400 && s < 500 && s !== 429;
}

async function firstParent(gh: GitHubClient, w: Watch): Promise<string> {
  const repo = { owner: w.owner, repo: w.repo };
  const c = await gh.request('GET /repos/{owner}/{repo}/commits/{ref}', { ...repo, ref: w.sha, per_page: 1 });
  const parent = c.data.parents[0]?.sha ?? null;
  if (parent === null)
    throw new Error(
      `deployment ${w.deployment_id}: ${w.sha} has no parent and no earlier deployment to return to`,
    );
  return parent;
}

/** Branch and pull request: found (an earlier attempt's) or made. */
async function openPull(
  gh: GitHubClient,
  w: Watch,
  e: Evidence,
  policy: Policy,
  log: BotLog,
): Promise<{ pr: OpenPull; existing: boolean }> {
  const repo: RepoRef = { owner: w.owner, repo: w.repo };
  const branch = revertBranch(w.deployment_id);
  // A first deployment has no predecessor: undo the deployed commit itself.
  const previous = w.previous_sha ?? (await firstParent(gh, w));
  const previousNote =
    w.previous_sha === null
      ? `no earlier successful deployment to ${w.environment}: the deployed commit's parent`
      : null;
  const plan = await planRevertCommit(gh, repo, { previous, deployed: w.sha, branch: w.default_branch });
  const manual = plan.conflicts.length > 0;
  const written = await writeRevertBranch(gh, repo, plan, branch, commitMessage(w, e, previous));
  if (written.existed) {
    const found = await findPullForBranch(gh, repo, branch);
    if (found) {
      log.info(`deployment ${w.deployment_id}: ${branch} exists, revert already open as #${found.number}`);
      return { pr: found, existing: true };
    }
    // The branch's creator stopped before opening the pull request: open it on their branch.
    log.warn(`deployment ${w.deployment_id}: ${branch} exists without a pull request; opening one`);
  }
  const pr = await createPull(gh, repo, {
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
      auto_merge: policy.auto_revert.merge === 'auto',
    }),
  });
  return { pr, existing: false };
}

export async function openRevert(
  gh: GitHubClient,
  w: Watch,
  e: Evidence,
  policy: Policy,
  log: BotLog,
  ctx: RevertContext = memoryContext(),
): Promise<RevertResult> {
  const repo: RepoRef = { owner: w.owner, repo: w.repo };
  let p: RevertProgress = ctx.progress;
  // Steps not recorded may still have been done when an earlier attempt had the pull request.
  let mayBeDone = true;
  if (p.pr === null) {
    const opened = await openPull(gh, w, e, policy, log);
    mayBeDone = opened.existing;
    p = { ...p, pr: opened.pr, existing: p.existing || opened.existing };
    await ctx.save(p);
  }
  const pr = p.pr!;
  const manual = pr.draft;
  const steps: Array<[RevertStep, string, () => Promise<unknown>]> = [
    ['labels', 'label it', () => addLabels(gh, repo, pr.number, REVERT_LABELS)],
    [
      'reviewers',
      'request review from the on-call',
      () => requestReviewers(gh, repo, pr.number, policy.oncall),
    ],
    [
      'auto_merge',
      'enable auto-merge',
      async () => {
        if (policy.auto_revert.merge === 'auto' && !manual) await enableAutoMerge(gh, pr.node_id);
      },
    ],
    [
      'deployment_status',
      'mark the deployment failed',
      async () => {
        const prefix = revertedStatusPrefix(pr.number);
        if (mayBeDone && (await hasDeploymentStatus(gh, repo, w.deployment_id, 'failure', prefix))) return;
        await setDeploymentStatus(gh, repo, w.deployment_id, {
          state: 'failure',
          environment: w.environment,
          log_url: pr.html_url,
          description: clip(`${prefix}: ${e.message}`, 140),
        });
      },
    ],
    [
      'comment',
      `comment on the shipping pull request`,
      async () => {
        const n = w.pull_number;
        if (n === null) return;
        const marker = commentMarker('reverting', w.deployment_id);
        if (mayBeDone && (await hasComment(gh, repo, n, marker, e.detected_at))) return;
        await comment(gh, repo, n, `${shippedComment(w, e, pr.html_url, manual)}\n\n${marker}`);
      },
    ],
  ];
  for (const [step, what, run] of steps) {
    if (p.done.includes(step)) continue;
    try {
      await run();
      p = { ...p, done: [...p.done, step] };
    } catch (err) {
      // A transient failure (5xx, network, a lost lease) ends this attempt: the next does the rest.
      if (!permanent(err)) throw err;
      const msg = (err as Error).message;
      log.warn(`revert #${pr.number}: could not ${what}: ${msg}`);
      p = { ...p, done: [...p.done, step], skipped: [...p.skipped, { step, error: msg }] };
    }
    await ctx.save(p);
  }
  return { pull_number: pr.number, url: pr.html_url, existing: p.existing, draft: manual };
}
