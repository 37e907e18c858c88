import { bareLabel as bare } from '../policy/gate/change.ts';
import type { GatheredChange } from '../policy/gate/ports.ts';
import { revertClaim, revertedCommit } from '../policy/gate/risk.ts';
import { isOverrideLabel } from '../policy/overrides/overrides.ts';
import type { Policy } from '../policy/spec/schema.ts';
import { fetchLastPushAt, fetchPullRequestFiles } from './changes.ts';
import { fetchPullsForCommits, type PullSummary } from './commit-pulls.ts';
import { contributorsOf } from './contributors.ts';
import { type DeployDiff, fetchDeployDiff } from './deploy-diff.ts';
import type { DeployEvent, GateEvent, PullRequestEvent } from './gate-event.ts';
import { gatherLabelEvents } from './labels.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';
import { fetchPullCommits, type PullCommits } from './pull-commits.ts';
import {
  appPullRequestEvidence,
  type EvidenceResult,
  inverseDiffEvidence,
  rollbackEvidence,
} from './revert-evidence.ts';

// The change being gated, in two steps so the common case stays cheap: first what the change
// touches (one request on a pull request), and only when that is blocked, who applied the override
// labels and when (a pull request) or which pull requests a deploy ships (a deploy).

export interface Gathered extends GatheredChange {
  diff: DeployDiff | null;
  /** The pull request's commits, once read (for revert evidence): who wrote it is read from them. */
  pull_commits?: PullCommits;
}

export async function gatherChange(
  gh: GitHubClient,
  event: GateEvent,
  environment: string,
): Promise<Gathered> {
  return event.kind === 'pull_request' ? gatherPullRequest(gh, event) : gatherDeploy(gh, event, environment);
}

async function gatherPullRequest(gh: GitHubClient, event: PullRequestEvent): Promise<Gathered> {
  const { files, truncated } = await fetchPullRequestFiles(gh, event.repo, event.number);
  return {
    change: {
      files,
      labels: event.labels.filter((l) => !isOverrideLabel(l)).map(bare),
      author: event.author,
      last_push_at: null,
      title: event.title,
      head_ref: event.head_ref,
      ...(truncated ? { files_partial: true } : {}),
    },
    pull_request: event.number,
    sha: event.head_sha,
    override_labels: event.labels.filter(isOverrideLabel),
    diff: null,
    warnings: truncated ? [`pull request #${event.number} changes more files than GitHub lists (3000)`] : [],
  };
}

async function gatherDeploy(gh: GitHubClient, event: DeployEvent, environment: string): Promise<Gathered> {
  const diff = await fetchDeployDiff(gh, event.repo, {
    environment,
    head: event.head_sha,
    before: event.before,
    currentDeploymentId: event.deployment_id,
  });
  // Merge commits say "Merge pull request …", not what they do: judge the commits they bring.
  const messages = diff.commits.filter((c) => c.parents.length <= 1).map((c) => c.message);
  return {
    change: {
      files: diff.files,
      labels: [],
      author: null,
      last_push_at: null,
      commit_messages: messages,
      ...(diff.truncated ? { files_partial: true } : {}),
    },
    pull_request: null,
    sha: event.head_sha,
    override_labels: [],
    diff,
    warnings: diff.warnings,
  };
}

/** Whether a blocked change has anything left to look up that could let it through. */
export function canLookFurther(event: GateEvent, gathered: Gathered, policy: Policy): boolean {
  if (event.kind === 'deploy') return gathered.diff !== null;
  return gathered.override_labels.length > 0 || mayBeRevert(event, gathered, policy);
}

/** Worth asking GitHub for revert evidence: the App opened it, or it calls itself a revert. */
const mayBeRevert = (event: PullRequestEvent, g: Gathered, policy: Policy) =>
  event.author === `${policy.auto_revert.app}[bot]` || revertClaim(g.change) !== null;

const withEvidence = (g: Gathered, r: EvidenceResult, warnings: string[]): Gathered | null =>
  r.evidence ? { ...g, change: { ...g.change, revert_evidence: r.evidence }, warnings } : null;

async function pullRequestRevert(
  gh: GitHubClient,
  event: PullRequestEvent,
  gathered: Gathered,
  policy: Policy,
): Promise<{ gathered: Gathered; verified: boolean }> {
  if (!mayBeRevert(event, gathered, policy)) return { gathered, verified: false };
  const commits = await fetchPullCommits(gh, event.repo, event.number);
  const change = { ...gathered.change, commit_messages: commits.commits.map((c) => c.commit.message) };
  const app = policy.auto_revert.app;
  const sameRepo = event.head_repo?.owner === event.repo.owner && event.head_repo?.repo === event.repo.repo;
  const reverted = revertedCommit(change);
  const result =
    event.author === `${app}[bot]`
      ? appPullRequestEvidence(
          app,
          {
            number: event.number,
            author: event.author,
            author_type: event.author_type,
            head_ref: event.head_ref,
            same_repo: sameRepo,
          },
          commits,
        )
      : reverted
        ? await inverseDiffEvidence(gh, event.repo, {
            head: event.head_sha,
            files: change.files,
            reverted,
            target: { sha: event.base_sha, name: event.base_ref },
          })
        : { evidence: null, why: 'no commit says which commit it reverts (`This reverts commit <sha>`)' };
  const g = { ...gathered, change, pull_commits: commits };
  const verified = withEvidence(g, result, gathered.warnings);
  if (verified) return { gathered: verified, verified: true };
  return {
    gathered: { ...g, warnings: [...g.warnings, `not verified as a revert: ${result.why}`] },
    verified: false,
  };
}

async function deployRevert(
  gh: GitHubClient,
  event: DeployEvent,
  gathered: Gathered,
  environment: string,
): Promise<Gathered | null> {
  const diff = gathered.diff!;
  const reverted = revertedCommit(gathered.change);
  let result: EvidenceResult | null = null;
  if (diff.rollback) {
    result = await rollbackEvidence(gh, event.repo, {
      sha: event.head_sha,
      environment,
      currentDeploymentId: event.deployment_id,
    });
  } else if (reverted && !diff.truncated) {
    result = await inverseDiffEvidence(gh, event.repo, {
      head: event.head_sha,
      files: gathered.change.files,
      reverted,
      // What the deploy replaces: the reverted commit must be running there (or pushed before).
      target: {
        sha: diff.base,
        name: diff.base_source === 'deployment' ? `what ${environment} runs` : 'the branch before this push',
      },
    });
  }
  if (!result) return null;
  const verified = withEvidence(gathered, result, gathered.warnings);
  if (verified) return verified;
  gathered.warnings.push(`not verified as a revert: ${result.why}`);
  return null;
}

/**
 * The blocked change with what could let it through: override labels with their appliers and
 * approver facts, the branch's last push, and for a deploy the pull request it ships.
 */
export async function gatherFurther(
  gh: GitHubClient,
  event: GateEvent,
  first: Gathered,
  policy: Policy,
  environment: string,
): Promise<Gathered> {
  if (event.kind === 'pull_request') {
    const { gathered, verified } = await pullRequestRevert(gh, event, first, policy);
    // A verified revert passes every pause: who applied which label no longer matters.
    if (verified || gathered.override_labels.length === 0) return gathered;
    return withOverrides(gh, event.repo, gathered, policy, {
      number: event.number,
      labels: event.labels,
      author: event.author,
      head_repo: event.head_repo,
      head_ref: event.head_ref,
      head_sha: event.head_sha,
    });
  }
  const gathered: Gathered = { ...first, warnings: [...first.warnings] };
  const revert = await deployRevert(gh, event, gathered, environment);
  if (revert) return revert;
  const diff = gathered.diff!;
  const { pulls, unchecked } = await fetchPullsForCommits(gh, event.repo, diff.mainline);
  const warnings = [...gathered.warnings];
  if (unchecked > 0)
    warnings.push(`${unchecked} older commits of this deploy were not traced to pull requests`);
  if (pulls.length !== 1) {
    if (pulls.length > 1) {
      warnings.push(
        `this deploy ships ${pulls.length} pull requests (${pulls.map((p) => `#${p.number}`).join(', ')}): ` +
          'override labels count only on a deploy that ships a single pull request',
      );
    }
    return { ...gathered, warnings };
  }
  const pr = pulls[0]!;
  const withPr: Gathered = {
    ...gathered,
    change: { ...gathered.change, title: pr.title, head_ref: pr.head_ref, author: pr.author },
    pull_request: pr.number,
    override_labels: pr.labels.filter(isOverrideLabel),
    warnings,
  };
  if (withPr.override_labels.length === 0) return withPr;
  return withOverrides(gh, event.repo, withPr, policy, pullFacts(pr));
}

interface PullFacts {
  number: number;
  labels: string[];
  author: string | null;
  head_repo: RepoRef | null;
  head_ref: string;
  head_sha: string;
}

const pullFacts = (pr: PullSummary): PullFacts => ({
  number: pr.number,
  labels: pr.labels,
  author: pr.author,
  head_repo: pr.head_repo,
  head_ref: pr.head_ref,
  head_sha: pr.head_sha,
});

async function withOverrides(
  gh: GitHubClient,
  repo: RepoRef,
  gathered: Gathered,
  policy: Policy,
  pr: PullFacts,
): Promise<Gathered> {
  const { labels, warnings } = await gatherLabelEvents(gh, repo, {
    issueNumber: pr.number,
    labels: pr.labels,
    overrides: policy.overrides,
    author: pr.author,
  });
  // Who wrote it and when it was last pushed matter only for a label someone besides the opener applied.
  const opener = pr.author?.toLowerCase();
  const approvable = labels.some(
    (l) => isOverrideLabel(l.name) && l.applied_by !== null && l.applied_by.toLowerCase() !== opener,
  );
  if (!approvable)
    return {
      ...gathered,
      change: { ...gathered.change, labels },
      warnings: [...gathered.warnings, ...warnings],
    };
  const commits = gathered.pull_commits ?? (await fetchPullCommits(gh, repo, pr.number));
  const { contributors, unknown } = contributorsOf(commits);
  const push = pr.head_repo
    ? await fetchLastPushAt(gh, pr.head_repo, pr.head_ref)
    : {
        at: null,
        why: 'its head repository (a fork) was deleted, and with it the record of its pushes',
        refused: false,
      };
  return {
    ...gathered,
    change: {
      ...gathered.change,
      labels,
      last_push_at: push.at,
      ...(push.at === null ? { last_push_unknown: unknownPushTime(repo, pr, push) } : {}),
      contributors,
      ...(unknown.length > 0 ? { contributors_unknown: unknown } : {}),
    },
    warnings: [...gathered.warnings, ...warnings],
  };
}

/** Why the push time is unknown, and what would make it known. */
function unknownPushTime(repo: RepoRef, pr: PullFacts, push: { why: string; refused: boolean }): string {
  const here = `${repo.owner}/${repo.repo}`;
  const fork =
    pr.head_repo === null ||
    pr.head_repo.owner.toLowerCase() !== repo.owner.toLowerCase() ||
    pr.head_repo.repo.toLowerCase() !== repo.repo.toLowerCase();
  const fix = fork
    ? `push the change to a branch of ${here} (a maintainer can: \`git fetch origin pull/${pr.number}/head && git push origin FETCH_HEAD:refs/heads/${pr.head_ref}\`), open the pull request from there and apply the label again`
    : push.refused
      ? `give the token \`contents: read\` on ${here} (the activity API needs it) and run the gate again`
      : `push to ${pr.head_ref} again (an empty commit will do) and apply the label after it`;
  // Commit dates are written by whoever pushes, so they never stand in for the server's record.
  return `${push.why}: ${fix}`;
}
