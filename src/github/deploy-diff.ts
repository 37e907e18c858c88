import { statusOf } from './errors.ts';
import { filePaths } from './file-paths.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';
import { hasNextPage } from './paginate.ts';
import { diffTrees } from './tree-diff.ts';

// What a deploy ships: the commits and files between what the environment runs now (its last
// successful deployment) and what is being deployed. Without a deployment history the push's
// before..after stands in; without that, the head commit alone.
//
// The file list is never judged partial as if it were whole: the compare and commit endpoints list
// at most 300 files, so a longer diff is read from the two commits' trees instead (tree-diff.ts),
// and only a repository too large for that leaves `truncated` set, with a warning naming the range.

const ZERO_SHA = /^0+$/;
/** The compare API lists at most 300 files (and the commit API 300 without pagination). */
const COMPARE_FILES_LIMIT = 300;
/** GitHub's page size limit for every paginated endpoint. */
const PER_PAGE = 100;
/** How many commits of one deploy are read (their messages and the mainline); more are counted. */
const MAX_COMMITS = 1000;

interface DeployCommit {
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
  /** The file list may be partial (a repository too large to list): the warnings say where. */
  truncated: boolean;
  warnings: string[];
}

/**
 * Whether a deployment ran: its latest status is `success`, or `inactive` over a `success`. GitHub
 * adds `inactive` to the earlier deployments of a non-production environment when a new one
 * succeeds (`auto_inactive`, on by default), so there the previous deployment is `inactive` by the
 * time anyone looks. A `failure` or `error` under the `inactive` (the bot's mark on what it
 * reverted) means it did not run well.
 */
async function deploymentRan(gh: GitHubClient, repo: RepoRef, deploymentId: number): Promise<boolean> {
  const statuses = (perPage: number) =>
    gh.request('GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
      ...repo,
      deployment_id: deploymentId,
      per_page: perPage,
    });
  // The newest status answers almost every deployment; only an `inactive` one needs what came before.
  const latest = (await statuses(1)).data[0]?.state;
  if (latest !== 'inactive') return latest === 'success';
  const before = (await statuses(PER_PAGE)).data.find((s) => s.state !== 'inactive');
  return before?.state === 'success';
}

/** The newest deployment to `environment` that ran (deploymentRan), other than `excludeId`. */
export async function fetchLastSuccessfulDeployment(
  gh: GitHubClient,
  repo: RepoRef,
  environment: string,
  opts: { excludeId?: number | null; max?: number } = {},
): Promise<{ id: number; sha: string } | null> {
  const list = await gh.request('GET /repos/{owner}/{repo}/deployments', {
    ...repo,
    environment,
    per_page: Math.min(opts.max ?? 10, PER_PAGE),
  });
  for (const d of list.data) {
    const id = Number(d.id);
    if (id === opts.excludeId) continue;
    if (await deploymentRan(gh, repo, id)) return { id, sha: d.sha };
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
function firstParentChain(commits: readonly DeployCommit[], head: string): string[] {
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
  const res = await gh.request('GET /repos/{owner}/{repo}/compare/{basehead}', {
    ...repo,
    basehead: `${base}...${head}`,
  });
  const range = `${base.slice(0, 7)}...${head.slice(0, 7)}`;
  let files = filePaths(res.data.files ?? []);
  let truncated = false;
  if ((res.data.files?.length ?? 0) >= COMPARE_FILES_LIMIT) {
    // The compare lists 300 files at most: the trees list them all.
    const all = await diffTrees(gh, repo, res.data.merge_base_commit.sha, head);
    files = [...new Set([...files, ...all.files.map((f) => f.filename)])];
    if (all.truncated) {
      truncated = true;
      warnings.push(
        `${range}: the deploy changes more files than GitHub can list (the compare API stops at ${COMPARE_FILES_LIMIT} ` +
          `and the repository's tree is too large to read whole): the risk is judged on the ${files.length} files listed, which may be partial`,
      );
    }
  }
  const status = res.data.status;
  if (status === 'behind' || status === 'diverged') {
    // GitHub's compare lists the files from the merge base to the head: none for a deploy that goes
    // backwards, and not the undone side of a diverged one. The other direction lists those.
    const undone = await undoneFiles(gh, repo, base, head, warnings);
    files = [...new Set([...files, ...undone.files])];
    truncated ||= undone.truncated;
    warnings.push(
      status === 'behind'
        ? `${head.slice(0, 7)} is ${res.data.behind_by} commit(s) behind ${base.slice(0, 7)}, which ${source === 'deployment' ? 'the environment runs' : 'the branch had before this push'}: this deploy goes backwards and is judged on the ${files.length} file(s) it changes back`
        : `${head.slice(0, 7)} and ${base.slice(0, 7)} have diverged: judged on the files changed on either side of their merge base (${files.length})`,
    );
  }
  if (status === 'behind') {
    // Nothing new ships: the commits between are undone, and theirs are not this deploy's messages.
    return {
      head,
      base,
      base_source: source,
      base_deployment_id: deploymentId,
      files,
      commits: [],
      mainline: [],
      rollback: true,
      truncated,
      warnings,
    };
  }
  const commits = await allCommits(
    gh,
    repo,
    base,
    head,
    res.data.commits.map(toDeployCommit),
    res.data.total_commits,
  );
  if (commits.length < res.data.total_commits) {
    warnings.push(
      `${range}: the deploy ships ${res.data.total_commits} commits; their messages are read for the newest ${commits.length}`,
    );
  }
  return {
    head,
    base,
    base_source: source,
    base_deployment_id: deploymentId,
    files,
    commits,
    mainline: firstParentChain(commits, head),
    rollback: false,
    truncated,
    warnings,
  };
}

/** The files `base` has that `head` lacks: `head...base`, completed from the trees past 300. */
async function undoneFiles(
  gh: GitHubClient,
  repo: RepoRef,
  base: string,
  head: string,
  warnings: string[],
): Promise<{ files: string[]; truncated: boolean }> {
  const res = await gh.request('GET /repos/{owner}/{repo}/compare/{basehead}', {
    ...repo,
    basehead: `${head}...${base}`,
  });
  let files = filePaths(res.data.files ?? []);
  if ((res.data.files?.length ?? 0) < COMPARE_FILES_LIMIT) return { files, truncated: false };
  const all = await diffTrees(gh, repo, res.data.merge_base_commit.sha, base);
  files = [...new Set([...files, ...all.files.map((f) => f.filename)])];
  if (all.truncated)
    warnings.push(
      `${head.slice(0, 7)}...${base.slice(0, 7)}: more files differ than GitHub can list: the risk is judged on the ${files.length} listed, which may be partial`,
    );
  return { files, truncated: all.truncated };
}

/**
 * The compare's first page lists up to 250 commits, oldest first; later pages (at most 100 each)
 * hold the rest. Pages are read from where the first one stopped, without duplicates.
 */
async function allCommits(
  gh: GitHubClient,
  repo: RepoRef,
  base: string,
  head: string,
  first: DeployCommit[],
  total: number,
): Promise<DeployCommit[]> {
  const seen = new Set(first.map((c) => c.sha));
  const commits = [...first];
  for (
    let page = Math.floor(first.length / PER_PAGE) + 1;
    commits.length < Math.min(total, MAX_COMMITS);
    page++
  ) {
    const res = await gh.request('GET /repos/{owner}/{repo}/compare/{basehead}', {
      ...repo,
      basehead: `${base}...${head}`,
      per_page: PER_PAGE,
      page,
    });
    const fresh = res.data.commits.map(toDeployCommit).filter((c) => !seen.has(c.sha));
    for (const c of fresh) seen.add(c.sha);
    commits.push(...fresh);
    if (res.data.commits.length < PER_PAGE) break;
  }
  return commits;
}

async function headCommitOnly(
  gh: GitHubClient,
  repo: RepoRef,
  head: string,
  warnings: string[],
): Promise<DeployDiff> {
  warnings.push(`no base to compare with: judging the head commit ${head.slice(0, 7)} alone`);
  const res = await gh.request('GET /repos/{owner}/{repo}/commits/{ref}', {
    ...repo,
    ref: head,
    per_page: PER_PAGE,
  });
  let files = filePaths(res.data.files ?? []);
  let truncated = false;
  if (hasNextPage(res.headers.link)) {
    // More than a page of files: the trees list them all in two requests, where pages would take up to 30.
    const all = await diffTrees(gh, repo, res.data.parents[0]?.sha ?? null, head);
    files = [...new Set([...files, ...all.files.map((f) => f.filename)])];
    if (all.truncated) {
      truncated = true;
      warnings.push(
        `${head.slice(0, 7)}: the commit changes more files than GitHub can list (the repository's tree is too large to read whole): ` +
          `the risk is judged on the ${files.length} files listed, which may be partial`,
      );
    }
  }
  return {
    head,
    base: null,
    base_source: 'head-commit',
    base_deployment_id: null,
    files,
    commits: [toDeployCommit(res.data)],
    mainline: [res.data.sha],
    rollback: false,
    truncated,
    warnings,
  };
}
