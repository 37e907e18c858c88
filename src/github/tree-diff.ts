import type { GitHubClient, RepoRef } from './octokit.ts';

// The files that differ between two commits, from their recursive trees: two requests, and no
// cap on the number of files (the compare and commit endpoints list at most 300, and 3000 with
// pagination). A recursive tree is itself capped (100,000 entries or 7 MB); past that GitHub says
// `truncated` and so does this.

export interface TreeChange {
  filename: string;
  status: 'added' | 'removed' | 'modified';
}

type Entries = Map<string, string>;

async function treeEntries(
  gh: GitHubClient,
  repo: RepoRef,
  commit: string | null,
): Promise<{ entries: Entries; truncated: boolean }> {
  const entries: Entries = new Map();
  if (commit === null) return { entries, truncated: false };
  // A 404 names the commit and `contents: read` (errors.ts' ROUTE_NEEDS).
  const res = await gh.request('GET /repos/{owner}/{repo}/git/trees/{tree_sha}', {
    ...repo,
    tree_sha: commit,
    recursive: '1',
  });
  for (const e of res.data.tree) {
    // Blobs and submodule commits are what a change ships; subtrees are only containers.
    if (e.type !== 'tree' && e.path && e.sha) entries.set(e.path, `${e.mode}:${e.sha}`);
  }
  return { entries, truncated: res.data.truncated };
}

/** Every path whose content or mode differs between `base` (null: nothing) and `head`. */
export async function diffTrees(
  gh: GitHubClient,
  repo: RepoRef,
  base: string | null,
  head: string,
): Promise<{ files: TreeChange[]; truncated: boolean }> {
  const [a, b] = await Promise.all([treeEntries(gh, repo, base), treeEntries(gh, repo, head)]);
  const files: TreeChange[] = [];
  for (const [path, id] of b.entries) {
    const before = a.entries.get(path);
    if (before === undefined) files.push({ filename: path, status: 'added' });
    else if (before !== id) files.push({ filename: path, status: 'modified' });
  }
  for (const path of a.entries.keys()) {
    if (!b.entries.has(path)) files.push({ filename: path, status: 'removed' });
  }
  files.sort((x, y) => (x.filename < y.filename ? -1 : x.filename > y.filename ? 1 : 0));
  return { files, truncated: a.truncated || b.truncated };
}
