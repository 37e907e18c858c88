import { needing, statusOf } from './errors.ts';
import { filePaths } from './file-paths.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';

// What a deploy ships: the commits and files between what the environment runs now (its last
// successful deployment) and what is being deployed. Without a deployment history the push's
// before..after stands in; without that, the head commit alone.

const ZERO_SHA = /^0+$/;
/** The compare API lists at most 300 files. */
const COMPARE_FILES_LIMIT = 300;

export interface DeployCommit {
  sha: string;
  message: string;
  author: string | null;
  parents: string[];
}

export interface DeployDiffInput {
  environment: string;
  head: string;
  /** The push payload's `before`; null or all zeros when the ref is new. */
  before?: string | null;
  /** The deployment being gated (a `deployment` event): not its own baseline. */
  currentDeploymentId?: number | null;
  maxDeploymentsChecked?: number;
}

export interface DeployDiff {
  head: string;
  base: string | null;
  base_source: 'deployment' | 'push' | 'head-commit';
  base_deployment_id: number | null;
  files: string[];
  /** Oldest first, as GitHub lists them. */
  commits: DeployCommit[];
  /** The head's first-parent line back to the base: one commit per merged pull request or direct push. */
  mainline: string[];
  /** The head is behind what the environment runs: this deploy rolls back. */
  rollback: boolean;
  truncated: boolean;
  warnings: string[];
}

/** The newest deployment to `environment` whose latest status is `success`. */
export async function fetchLastSuccessfulDeployment(
  gh: GitHubClient,
  repo: RepoRef,
  environment: string,
  opts: { excludeId?: number | null; max?: number } = {},
): Promise<{ id: number; sha: string } | null> {
  const call = `GET /repos/${repo.owner}/${repo.repo}/deployments`;
  const list = await needing('deployments: read', call, () =>
    gh.request('GET /repos/{owner}/{repo}/deployments', { ...repo, environment, per_page: opts.max ?? 10 }),
  );
  for (const d of list.data) {
    const id = Number(d.id);
    if (id === opts.excludeId) continue;
    const statuses = await needing('deployments: read', `${call}/${d.id}/statuses`, () =>
      gh.request('GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
        ...repo,
        deployment_id: id,
        per_page: 1,
      }),
    );
    if (statuses.data[0]?.state === 'success') return { id, sha: d.sha };
  }
  return null;
}

interface CommitLike {
  sha: string;
  commit: { message: string };
  author: { login?: string } | null;
  parents: ReadonlyArray<{ sha: string }>;
}

const toDeployCommit = (c: CommitLike): DeployCommit => ({
  sha: c.sha,
  message: c.commit.message,
  author: c.author?.login ?? null,
  parents: c.parents.map((p) => p.sha),
});

/** From the head back along first parents while the commits are in the range. */
export function firstParentChain(commits: readonly DeployCommit[], head: string): string[] {
  const bySha = new Map(commits.map((c) => [c.sha, c]));
  const chain: string[] = [];
  for (let c = bySha.get(head); c && chain.length < commits.length; c = bySha.get(c.parents[0] ?? '')) {
    chain.push(c.sha);
  }
  return chain;
}

export async function fetchDeployDiff(
  gh: GitHubClient,
  repo: RepoRef,
  input: DeployDiffInput,
): Promise<DeployDiff> {
  const warnings: string[] = [];
  const last = await fetchLastSuccessfulDeployment(gh, repo, input.environment, {
    excludeId: input.currentDeploymentId ?? null,
    max: input.maxDeploymentsChecked ?? 10,
  });
  const before = input.before && !ZERO_SHA.test(input.before) ? input.before : null;
  const candidates: Array<{ base: string; source: 'deployment' | 'push'; id: number | null }> = [];
  if (last) candidates.push({ base: last.sha, source: 'deployment', id: last.id });
  else
    warnings.push(
      `no successful deployment to ${input.environment} found${before ? ': comparing with the push instead' : ''}`,
    );
  if (before) candidates.push({ base: before, source: 'push', id: null });

  for (const c of candidates) {
    try {
      return await compare(gh, repo, c.base, input.head, c.source, c.id, warnings);
    } catch (e) {
      // A base that no longer exists (force-pushed away) is not fatal: the next base stands in.
      if (statusOf(e) !== 404) throw e;
      warnings.push(
        `cannot compare ${c.base.slice(0, 7)}...${input.head.slice(0, 7)} (404): trying the next base`,
      );
    }
  }
  return headCommitOnly(gh, repo, input.head, warnings);
}

async function compare(
  gh: GitHubClient,
  repo: RepoRef,
  base: string,
  head: string,
  source: 'deployment' | 'push',
  deploymentId: number | null,
  warnings: string[],
): Promise<DeployDiff> {
  const res = await needing('contents: read', `GET /repos/${repo.owner}/${repo.repo}/compare`, () =>
    gh.request('GET /repos/{owner}/{repo}/compare/{basehead}', { ...repo, basehead: `${base}...${head}` }),
  );
  const files = res.data.files ?? [];
  const commits = res.data.commits.map(toDeployCommit);
  const truncated = files.length >= COMPARE_FILES_LIMIT || res.data.total_commits > commits.length;
  if (truncated) {
    warnings.push(
      `the deploy ships ${res.data.total_commits} commits and ${files.length}+ files: GitHub lists only ` +
        `${COMPARE_FILES_LIMIT} files, so the risk is judged on those`,
    );
  }
  if (res.data.status === 'diverged') {
    warnings.push(
      `${head.slice(0, 7)} is not a descendant of ${base.slice(0, 7)}: judged on the commits since their merge base`,
    );
  }
  return {
    head,
    base,
    base_source: source,
    base_deployment_id: deploymentId,
    files: filePaths(files),
    commits,
    mainline: firstParentChain(commits, head),
    rollback: res.data.status === 'behind',
    truncated,
    warnings,
  };
}

async function headCommitOnly(
  gh: GitHubClient,
  repo: RepoRef,
  head: string,
  warnings: string[],
): Promise<DeployDiff> {
  warnings.push(`no base to compare with: judging the head commit ${head.slice(0, 7)} alone`);
  const res = await needing('contents: read', `GET /repos/${repo.owner}/${repo.repo}/commits/${head}`, () =>
    gh.request('GET /repos/{owner}/{repo}/commits/{ref}', { ...repo, ref: head, per_page: 300 }),
  );
  const files = res.data.files ?? [];
  return {
    head,
    base: null,
    base_source: 'head-commit',
    base_deployment_id: null,
    files: filePaths(files),
    commits: [toDeployCommit(res.data)],
    mainline: [res.data.sha],
    rollback: false,
    truncated: files.length >= COMPARE_FILES_LIMIT,
    warnings,
  };
}
