import { z } from 'zod';
import type { RevertEvidence } from '../policy/gate/change.ts';
import { needing, statusOf } from './errors.ts';
import { filePaths } from './file-paths.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';
import { parseReply } from './reply.ts';

// Evidence that a change is a revert, from what GitHub vouches for (DESIGN.md: "A revert is a fact
// GitHub vouches for … never a title or a branch name"). Asked only for a change the gate would
// block, so the common case costs nothing. Each check says why it failed, for the decision.

/** GitHub's compare and commit APIs list at most 300 files: a longer list cannot be verified. */
const FILES_LISTED = 300;
/** The bot's revert branches (src/bot/revert/body.ts). */
export const APP_REVERT_BRANCH = /^budget-gate\/revert-\d+$/;

export interface EvidenceResult {
  evidence: RevertEvidence | null;
  /** Why the claim could not be verified (for the decision's warnings). */
  why: string | null;
}

const none = (why: string): EvidenceResult => ({ evidence: null, why });

// GitHub sends null for a commit whose email maps to no account; a missing field reads the same.
const login = z.object({ login: z.string() }).nullish();
const pullCommitSchema = z.object({
  sha: z.string(),
  commit: z.object({
    message: z.string(),
    verification: z.object({ verified: z.boolean() }).nullable().optional(),
  }),
  author: login,
  committer: login,
});
type PullCommit = z.output<typeof pullCommitSchema>;

/** The pull request's commits, oldest first (at most 250, as GitHub lists them). */
export async function fetchPullCommits(
  gh: GitHubClient,
  repo: RepoRef,
  number: number,
): Promise<PullCommit[]> {
  const res = await needing(
    'pull-requests: read',
    `GET /repos/${repo.owner}/${repo.repo}/pulls/${number}/commits`,
    () =>
      gh.request('GET /repos/{owner}/{repo}/pulls/{pull_number}/commits', {
        ...repo,
        pull_number: number,
        per_page: 100,
      }),
  );
  return parseReply(
    z.array(pullCommitSchema),
    res.data,
    `GET /repos/${repo.owner}/${repo.repo}/pulls/${number}/commits`,
  );
}

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
  commits: readonly PullCommit[],
): EvidenceResult {
  const bot = `${app}[bot]`;
  if (pr.author !== bot || pr.author_type !== 'Bot') return none(`it was not opened by the ${bot} App`);
  if (!pr.same_repo || !APP_REVERT_BRANCH.test(pr.head_ref))
    return none(`its branch ${pr.head_ref} is not one the App makes (budget-gate/revert-<deployment>)`);
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

/**
 * The exact inverse of `reverted`: every file the change touches was touched by the reverted
 * commit, and at `head` has its content from before it (the reverted commit's first parent).
 */
export async function inverseDiffEvidence(
  gh: GitHubClient,
  repo: RepoRef,
  input: { head: string; files: readonly string[]; reverted: string },
): Promise<EvidenceResult> {
  const { head, files, reverted } = input;
  const short = reverted.slice(0, 7);
  if (files.length === 0) return none('it changes no files');
  let target: {
    sha: string;
    parents: { sha: string }[];
    files?: { filename: string; previous_filename?: string }[];
  };
  try {
    const res = await needing(
      'contents: read',
      `GET /repos/${repo.owner}/${repo.repo}/commits/${short}`,
      () => gh.request('GET /repos/{owner}/{repo}/commits/{ref}', { ...repo, ref: reverted, per_page: 100 }),
    );
    target = res.data;
  } catch (e) {
    if (statusOf(e) === 404 || statusOf(e) === 422) return none(`commit ${short} is not in this repository`);
    throw e;
  }
  const parent = target.parents[0]?.sha;
  if (!parent) return none(`${short} is a root commit: there is no "before" to return to`);
  const touched = new Set(filePaths(target.files ?? []));
  if (touched.size >= FILES_LISTED)
    return none(`${short} touches ${FILES_LISTED}+ files: too many to verify`);
  const extra = files.filter((f) => !touched.has(f));
  if (extra.length > 0)
    return none(`it also changes ${extra.slice(0, 3).join(', ')}, which ${short} did not touch`);

  const cmp = await needing('contents: read', `GET /repos/${repo.owner}/${repo.repo}/compare`, () =>
    gh.request('GET /repos/{owner}/{repo}/compare/{basehead}', {
      ...repo,
      basehead: `${parent}...${head}`,
      per_page: 100,
    }),
  );
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

/** A deployment of a sha that the environment ran successfully before: a rollback. */
export async function rollbackEvidence(
  gh: GitHubClient,
  repo: RepoRef,
  input: { sha: string; environment: string; currentDeploymentId: number | null },
): Promise<EvidenceResult> {
  const call = `GET /repos/${repo.owner}/${repo.repo}/deployments`;
  const list = await needing('deployments: read', call, () =>
    gh.request('GET /repos/{owner}/{repo}/deployments', {
      ...repo,
      sha: input.sha,
      environment: input.environment,
      per_page: 10,
    }),
  );
  for (const d of list.data) {
    if (Number(d.id) === input.currentDeploymentId || d.sha !== input.sha) continue;
    const statuses = await needing('deployments: read', `${call}/${d.id}/statuses`, () =>
      gh.request('GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
        ...repo,
        deployment_id: Number(d.id),
        per_page: 100,
      }),
    );
    // A later deploy marks it `inactive`; it ran if any status said `success`.
    if (statuses.data.some((s) => s.state === 'success'))
      return {
        evidence: {
          kind: 'rollback',
          sha: input.sha,
          environment: input.environment,
          deployment_id: Number(d.id),
        },
        why: null,
      };
  }
  return none(`${input.sha.slice(0, 7)} was never deployed to ${input.environment} successfully`);
}
