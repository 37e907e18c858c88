import { z } from 'zod';
import { statusOf } from './errors.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';
import { parseReply } from './reply.ts';
import { diffTrees } from './tree-diff.ts';

// A revert built with the Git Data API, without a checkout: every file the deployment changed
// (previous deployed sha → deployed sha) is put back as it was at the previous sha, on top of the
// default branch's head. The old blobs are already in the repository, so the tree points at them
// by sha: no content is uploaded, and binary files and modes come back exactly. A file that a later
// commit on the default branch also touched is not guessed at: it is left alone and reported as a
// conflict, for a person to revert by hand.

/**
 * Workflow files are left for a person to revert. Writing them takes the `workflows: write`
 * permission (GitHub refuses the ref otherwise), and an App holding it can change what CI runs
 * with the repository's secrets: too much power for an automatic revert.
 */
const isWorkflowFile = (path: string): boolean => path.startsWith('.github/workflows/');

const changedFileSchema = z.object({
  filename: z.string(),
  status: z.string(),
  previous_filename: z.string().optional(),
});
type ChangedFile = z.output<typeof changedFileSchema>;

export interface TreeEntry {
  path: string;
  mode: '100644' | '100755' | '040000' | '160000' | '120000';
  type: 'blob' | 'tree' | 'commit';
  sha: string | null;
}

export interface RevertCommitPlan {
  /** The default branch's head the revert is built on. */
  tip: string;
  tip_tree: string;
  /** Paths the revert writes: restored to the previous content, or deleted (added by the deployment). */
  entries: TreeEntry[];
  /** Paths changed by the deployment and again by a later commit: left for a manual revert. */
  conflicts: string[];
  warnings: string[];
}

export interface RevertInput {
  /** What the environment ran before the deployment. */
  previous: string;
  /** What the deployment shipped. */
  deployed: string;
  branch: string;
}

/** The compare API lists at most 300 files. */
const COMPARE_FILES_LIMIT = 300;

/** Every file changed in base...head: the compare's list, or the trees' when the compare's is cut at 300. */
async function compareFiles(gh: GitHubClient, repo: RepoRef, base: string, head: string) {
  const res = await gh.request('GET /repos/{owner}/{repo}/compare/{basehead}', {
    ...repo,
    basehead: `${base}...${head}`,
  });
  let files: ChangedFile[] = parseReply(
    z.array(changedFileSchema),
    res.data.files ?? [],
    `GET /repos/${repo.owner}/${repo.repo}/compare/${base}...${head}`,
  );
  let truncated = false;
  if (files.length >= COMPARE_FILES_LIMIT) {
    const all = await diffTrees(gh, repo, res.data.merge_base_commit.sha, head);
    const listed = new Set(files.flatMap((f) => [f.filename, f.previous_filename ?? f.filename]));
    files = [...files, ...all.files.filter((f) => !listed.has(f.filename))];
    truncated = all.truncated;
  }
  return { files, truncated, status: res.data.status, commits: res.data.total_commits };
}

const pathsOf = (files: readonly ChangedFile[]) =>
  new Set(files.flatMap((f) => (f.previous_filename ? [f.filename, f.previous_filename] : [f.filename])));

/** Reads what is needed and decides every tree entry; writes nothing. */
export async function planRevertCommit(
  gh: GitHubClient,
  repo: RepoRef,
  input: RevertInput,
): Promise<RevertCommitPlan> {
  const warnings: string[] = [];
  const shipped = await compareFiles(gh, repo, input.previous, input.deployed);
  if (shipped.truncated) {
    warnings.push(
      `the deployment changed more files than GitHub can list (${shipped.files.length} listed; the repository's tree is too large to read whole): revert the rest by hand (git revert)`,
    );
  }
  const branch = await gh.request('GET /repos/{owner}/{repo}/branches/{branch}', {
    ...repo,
    branch: input.branch,
  });
  const tip = branch.data.commit.sha;
  const tipTree = branch.data.commit.commit.tree.sha;

  const paths = pathsOf(shipped.files);
  const conflicts = new Set<string>();
  if (tip !== input.deployed) {
    try {
      const later = await compareFiles(gh, repo, input.deployed, tip);
      for (const p of pathsOf(later.files)) if (paths.has(p)) conflicts.add(p);
      if (later.truncated) {
        for (const p of paths) conflicts.add(p);
        warnings.push(
          `${input.branch} changed more files since ${input.deployed.slice(0, 7)} than GitHub can list: every path needs a manual revert`,
        );
      }
      if (later.status === 'diverged' || later.status === 'behind') {
        warnings.push(
          `${input.branch} (${tip.slice(0, 7)}) does not contain the deployed ${input.deployed.slice(0, 7)} as an ancestor: check the revert by hand`,
        );
      }
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
      for (const p of paths) conflicts.add(p);
      warnings.push(
        `cannot compare ${input.deployed.slice(0, 7)} with ${input.branch}: every path needs a manual revert`,
      );
    }
  }

  const workflows = [...paths].filter(isWorkflowFile).sort();
  if (workflows.length > 0) {
    for (const p of workflows) conflicts.add(p);
    warnings.push(
      `${workflows.map((p) => `\`${p}\``).join(', ')}: workflow files are left for a manual revert (budget-gate does not ask for \`workflows: write\`, which would let it change what CI runs)`,
    );
  }
  const restore = [...paths].filter((p) => !conflicts.has(p)).sort();
  const before = await previousEntries(gh, repo, input.previous, restore, warnings);
  const entries: TreeEntry[] = restore.map((path) => {
    const old = before.get(path);
    // Absent before the deployment: the deployment added it, so the revert deletes it.
    return old
      ? { path, mode: old.mode, type: 'blob', sha: old.sha }
      : { path, mode: '100644', type: 'blob', sha: null };
  });
  return { tip, tip_tree: tipTree, entries, conflicts: [...conflicts].sort(), warnings };
}

/** path → (mode, blob sha) at the previous sha, for the paths wanted. */
async function previousEntries(
  gh: GitHubClient,
  repo: RepoRef,
  sha: string,
  wanted: readonly string[],
  warnings: string[],
): Promise<Map<string, { mode: TreeEntry['mode']; sha: string }>> {
  const out = new Map<string, { mode: TreeEntry['mode']; sha: string }>();
  if (wanted.length === 0) return out;
  const tree = await gh.request('GET /repos/{owner}/{repo}/git/trees/{tree_sha}', {
    ...repo,
    tree_sha: sha,
    recursive: '1',
  });
  const want = new Set(wanted);
  for (const e of tree.data.tree) {
    if (e.type === 'blob' && e.path && e.sha && want.has(e.path)) {
      out.set(e.path, { mode: e.mode as TreeEntry['mode'], sha: e.sha });
    }
  }
  if (tree.data.truncated) {
    // Very large repositories: the recursive listing stops early; ask for the missing paths one by
    // one. Only the blob sha is needed: the `object` media type answers it for files over 1 MB too,
    // where the default media type refuses with 403 `too_large` (as the audit log reader does).
    for (const path of wanted.filter((p) => !out.has(p))) {
      try {
        const res = await gh.request('GET /repos/{owner}/{repo}/contents/{path}', {
          ...repo,
          path,
          ref: sha,
          headers: { accept: 'application/vnd.github.object+json' },
        });
        const d = res.data;
        if (!Array.isArray(d) && (d.type === 'file' || d.type === 'symlink')) {
          out.set(path, { mode: d.type === 'symlink' ? '120000' : '100644', sha: d.sha });
        }
      } catch (e) {
        if (statusOf(e) !== 404) throw e;
      }
    }
    warnings.push(
      'the repository tree is too large to list at once: file modes of restored files were not read (100644 assumed)',
    );
  }
  return out;
}

export interface WrittenRevert {
  commit: string;
  tree: string;
  ref: string;
  /** The branch existed already: another delivery or replica holds the lock. */
  existed: boolean;
}

/**
 * tree → commit → ref. Creating the ref is the lock: GitHub answers 422 when it exists, which means
 * someone else got there first, and the caller looks for their pull request instead.
 */
export async function writeRevertBranch(
  gh: GitHubClient,
  repo: RepoRef,
  plan: RevertCommitPlan,
  branchName: string,
  message: string,
): Promise<WrittenRevert> {
  let tree = plan.tip_tree;
  if (plan.entries.length > 0) {
    const res = await gh.request('POST /repos/{owner}/{repo}/git/trees', {
      ...repo,
      base_tree: plan.tip_tree,
      tree: plan.entries,
    });
    tree = res.data.sha;
  }
  // With every path in conflict the commit changes nothing; it still gives the draft PR a head.
  const commit = await gh.request('POST /repos/{owner}/{repo}/git/commits', {
    ...repo,
    message,
    tree,
    parents: [plan.tip],
  });
  const ref = `refs/heads/${branchName}`;
  try {
    await gh.request('POST /repos/{owner}/{repo}/git/refs', { ...repo, ref, sha: commit.data.sha });
  } catch (e) {
    if (statusOf(e) === 422 && /already exists/i.test((e as Error).message)) {
      return { commit: commit.data.sha, tree, ref, existed: true };
    }
    throw e;
  }
  return { commit: commit.data.sha, tree, ref, existed: false };
}

export interface OpenPull {
  number: number;
  html_url: string;
  node_id: string;
  draft: boolean;
}

/** The pull request (open or closed) whose head is `branch` in this repository, if any. */
export async function findPullForBranch(
  gh: GitHubClient,
  repo: RepoRef,
  branch: string,
): Promise<OpenPull | null> {
  const res = await gh.request('GET /repos/{owner}/{repo}/pulls', {
    ...repo,
    head: `${repo.owner}:${branch}`,
    state: 'all',
    per_page: 1,
  });
  const pr = res.data[0];
  return pr
    ? { number: pr.number, html_url: pr.html_url, node_id: pr.node_id, draft: pr.draft ?? false }
    : null;
}
