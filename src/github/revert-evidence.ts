import type { RevertEvidence } from '../policy/gate/change.ts';
import { statusOf } from './errors.ts';
import { filePaths } from './file-paths.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';
import { PULL_COMMITS_LISTED, type PullCommits } from './pull-commits.ts';

// Evidence that a change is a revert, from what GitHub vouches for (DESIGN.md: "A revert is a fact
// GitHub vouches for … never a title or a branch name"). Asked only for a change the gate would
// block, so the common case costs nothing. Each check says why it failed, for the decision.

/** GitHub's compare and commit APIs list at most 300 files: a longer list cannot be verified. */
const FILES_LISTED = 300;
/** The bot's revert branches (src/bot/revert/body.ts). */
const APP_REVERT_BRANCH = /^budget-gate\/revert-\d+$/;

export interface EvidenceResult {
  evidence: RevertEvidence | null;
  /** Why the claim could not be verified (for the decision's warnings). */
  why: string | null;
}

const none = (why: string): EvidenceResult => ({ evidence: null, why });

/**
 * The budget-gate App's own revert pull request: opened by the App (a `[bot]` login nobody can
 * register), on the branch the App makes in this repository, and every commit committed by the App
 * and signed by GitHub — so a push by anyone else to that branch disqualifies it.
 */
export function appPullRequestEvidence(
  app: string,
  pr: {
    number: number;
    author: string | null;
    author_type: string | null;
    head_ref: string;
    same_repo: boolean;
  },
  listed: PullCommits,
): EvidenceResult {
  const { commits } = listed;
  const bot = `${app}[bot]`;
  if (pr.author !== bot || pr.author_type !== 'Bot') return none(`it was not opened by the ${bot} App`);
  if (!pr.same_repo || !APP_REVERT_BRANCH.test(pr.head_ref))
    return none(`its branch ${pr.head_ref} is not one the App makes (budget-gate/revert-<deployment>)`);
  if (listed.truncated)
    return none(
      `GitHub lists ${PULL_COMMITS_LISTED} of its commits, the most it lists: the rest cannot be checked to be the App's`,
    );
  // GitHub signs the commits an App creates through the API; it names itself (`web-flow`) or the
  // App as the committer. A commit anyone else pushed lacks the App as author or the signature.
  const foreign = commits.find(
    (c) =>
      c.author?.login !== bot ||
      (c.committer?.login !== bot && c.committer?.login !== 'web-flow') ||
      c.commit.verification?.verified !== true,
  );
  if (commits.length === 0 || foreign)
    return none(
      foreign
        ? `commit ${foreign.sha.slice(0, 7)} on it was not made by ${bot} (authored by the App and signed by GitHub)`
        : 'it has no commits',
    );
  return {
    evidence: { kind: 'app-pull-request', app, pull_request: pr.number, branch: pr.head_ref },
    why: null,
  };
}

/** A commit message that calls itself a revert: `git revert`'s, or a title starting "Revert". */
const SAYS_REVERT = /This reverts commit [0-9a-f]{7,40}|^revert\b/i;

/** Where the reverted commit must already be: the branch the change targets, or what runs. */
export interface RevertTarget {
  /** The tip of that history: the pull request's base sha, or the sha the environment runs. */
  sha: string | null;
  /** In words, for the reason: "main", "what production runs". */
  name: string;
}

/**
 * The exact inverse of `reverted`: every file the change touches was touched by the reverted
 * commit, and at `head` has its content from before it (the reverted commit's first parent).
 *
 * A revert can be staged: add P, remove it in X, `git revert X` — the last commit is X's exact
 * inverse and re-adds P. So the reverted commit must already be in the target's history (it ran, or
 * was merged, before this change), never one the same change brings; and a commit that is itself a
 * revert is not undone by reverting it: that re-applies the change it undid, judged as that change.
 */
export async function inverseDiffEvidence(
  gh: GitHubClient,
  repo: RepoRef,
  input: { head: string; files: readonly string[]; reverted: string; target: RevertTarget },
): Promise<EvidenceResult> {
  const { head, files, reverted, target: into } = input;
  const short = reverted.slice(0, 7);
  if (files.length === 0) return none('it changes no files');
  let target: {
    sha: string;
    commit: { message: string };
    parents: { sha: string }[];
    files?: { filename: string; previous_filename?: string }[];
  };
  try {
    const res = await gh.request('GET /repos/{owner}/{repo}/commits/{ref}', {
      ...repo,
      ref: reverted,
      per_page: 100,
    });
    target = res.data;
  } catch (e) {
    if (statusOf(e) === 404 || statusOf(e) === 422) return none(`commit ${short} is not in this repository`);
    throw e;
  }
  if (SAYS_REVERT.test(target.commit.message))
    return none(
      `${short} is itself a revert ("${target.commit.message.split('\n')[0]!.slice(0, 80)}"): reverting it re-applies the change it undid, so it is judged as that change`,
    );
  const parent = target.parents[0]?.sha;
  if (!parent) return none(`${short} is a root commit: there is no "before" to return to`);
  const touched = new Set(filePaths(target.files ?? []));
  if (touched.size >= FILES_LISTED)
    return none(`${short} touches ${FILES_LISTED}+ files: too many to verify`);
  const extra = files.filter((f) => !touched.has(f));
  if (extra.length > 0)
    return none(`it also changes ${extra.slice(0, 3).join(', ')}, which ${short} did not touch`);

  if (!into.sha) return none(`there is no ${into.name} to find ${short} in`);
  // `into...reverted` is `behind` (or `identical`) exactly when the reverted commit is an ancestor of `into`.
  const history = await gh.request('GET /repos/{owner}/{repo}/compare/{basehead}', {
    ...repo,
    basehead: `${into.sha}...${target.sha}`,
    per_page: 1,
  });
  if (history.data.status !== 'behind' && history.data.status !== 'identical')
    return none(
      `${short} is not in the history of ${into.name} (${into.sha.slice(0, 7)}): a revert counts only for a commit that was already there, not one the same change brings`,
    );

  const cmp = await gh.request('GET /repos/{owner}/{repo}/compare/{basehead}', {
    ...repo,
    basehead: `${parent}...${head}`,
    per_page: 100,
  });
  // Only when `head` descends from the parent does "changed since the parent" mean what we need.
  if (cmp.data.status !== 'ahead' && cmp.data.status !== 'identical')
    return none(`${head.slice(0, 7)} does not descend from ${parent.slice(0, 7)} (${cmp.data.status})`);
  const changed = new Set(filePaths(cmp.data.files ?? []));
  if (changed.size >= FILES_LISTED) return none(`too much changed since ${short} to verify the files`);
  const differs = files.filter((f) => changed.has(f));
  if (differs.length > 0)
    return none(
      `${differs.slice(0, 3).join(', ')} ${differs.length === 1 ? 'is' : 'are'} not as before ${short}`,
    );
  return { evidence: { kind: 'inverse-diff', reverts: target.sha, files: files.length }, why: null };
}

/** Deployment states that say it did not run well: GitHub's, and the bot's mark on what it reverted. */
const FAILED = new Set(['failure', 'error']);

/**
 * A deployment of a sha the environment ran successfully before, and that nobody marked failed
 * since: a rollback. The bot marks a deployment it reverts `failure` (and one it could not revert
 * `error`), so redeploying what it reverted is not a rollback but the change again.
 */
export async function rollbackEvidence(
  gh: GitHubClient,
  repo: RepoRef,
  input: { sha: string; environment: string; currentDeploymentId: number | null },
): Promise<EvidenceResult> {
  const short = input.sha.slice(0, 7);
  const list = await gh.request('GET /repos/{owner}/{repo}/deployments', {
    ...repo,
    sha: input.sha,
    environment: input.environment,
    per_page: 10,
  });
  let ran: number | null = null;
  for (const d of list.data) {
    if (Number(d.id) === input.currentDeploymentId || d.sha !== input.sha) continue;
    const statuses = await gh.request('GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
      ...repo,
      deployment_id: Number(d.id),
      per_page: 100,
    });
    const failed = statuses.data.find((s) => FAILED.has(s.state));
    if (failed)
      return none(
        `${short} was deployed to ${input.environment} (deployment ${d.id}) and marked \`${failed.state}\`` +
          `${failed.description ? ` ("${failed.description}")` : ''}: a sha that was reverted or failed is not a rollback target, so this deploy is judged as the change it makes`,
      );
    // A later deploy marks it `inactive`; it ran if any status said `success`.
    if (ran === null && statuses.data.some((s) => s.state === 'success')) ran = Number(d.id);
  }
  if (ran !== null)
    return {
      evidence: { kind: 'rollback', sha: input.sha, environment: input.environment, deployment_id: ran },
      why: null,
    };
  return none(`${short} was never deployed to ${input.environment} successfully`);
}
