import type { RepoFiles } from '../policy/readiness/verdict.ts';
import { loadPolicy, PolicyError } from '../policy/spec/load.ts';
import { repoPath } from '../policy/spec/repo-path.ts';
import type { Policy } from '../policy/spec/schema.ts';
import { statusOf } from './errors.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';

// What the readiness verdict reads of a repository, read through GitHub's REST API at one commit
// rather than from a checkout (the bot keeps none): the runbook files the policy's alerts name, the
// drill records folder and the postmortems folder (listing, template, files) — nothing else. The
// files are fetched first, then handed to the pure judges as a RepoFiles over what was fetched, so
// the verdict is worked out by the same code as `budget-gate readiness` on a checkout.
// The bounds are a checkout's: a file over 1 MB is refused (as repoReader refuses it), a path the
// policy names must stay inside the repository (repo-path.ts), and a folder's listing is cut.

const MAX_REPO_FILE_BYTES = 1 << 20;
/** Files read from one folder at most (drill records, postmortems): the rest are not judged. */
const MAX_FILES_PER_DIR = 200;

export type BranchHead = { kind: 'unchanged' } | { kind: 'head'; sha: string; etag: string | null };

/** The branch's head commit, conditionally: an unchanged branch is a 304, free of rate limit. */
export async function branchHead(
  gh: GitHubClient,
  repo: RepoRef,
  branch: string,
  etag: string | null,
): Promise<BranchHead> {
  try {
    const res = await gh.request('GET /repos/{owner}/{repo}/branches/{branch}', {
      ...repo,
      branch,
      ...(etag ? { headers: { 'if-none-match': etag } } : {}),
    });
    return { kind: 'head', sha: res.data.commit.sha, etag: res.headers.etag ?? null };
  } catch (e) {
    if (statusOf(e) === 304) return { kind: 'unchanged' };
    throw e;
  }
}

interface Entry {
  name: string;
  path: string;
  type: string;
  size: number;
}

/** The paths readiness reads, as the policy names them (URLs and unsafe paths left out). */
function readinessPaths(policy: Policy): { files: string[]; dirs: string[] } {
  const safe = (p: string) => repoPath.safeParse(p).success;
  const files = new Set<string>();
  for (const a of policy.alerts)
    if (a.runbook && !/^https?:\/\//.test(a.runbook)) files.add(a.runbook.replace(/#.*$/, ''));
  const pm = policy.oncall.postmortems;
  files.add(pm.template ?? `${pm.dir}/TEMPLATE.md`);
  return {
    files: [...files].filter(safe),
    dirs: [policy.oncall.runbooks.drills, pm.dir].filter(safe),
  };
}

/**
 * Reads what readiness needs at `ref` — the policy at `policyPath` first, then what it names — and
 * returns it as RepoFiles with the policy (null when it is missing or does not load). `requests` counts the calls made. A file over 1 MB, or an answer that is neither a
 * file nor a folder, is an error: the caller keeps the verdict it had and says why.
 */
export async function readinessFiles(
  gh: GitHubClient,
  repo: RepoRef,
  ref: string,
  policyPath: string,
): Promise<{ files: RepoFiles; policy: Policy | null; requests: number }> {
  const texts = new Map<string, string | null>();
  const lists = new Map<string, string[] | null>();
  let requests = 0;
  const get = async (path: string) => {
    requests++;
    try {
      return (await gh.request('GET /repos/{owner}/{repo}/contents/{path}', { ...repo, path, ref }))
        .data as unknown;
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw e;
    }
  };
  const decode = (path: string, data: unknown): string | null => {
    if (data === null || Array.isArray(data)) return null; // missing, or a folder where a file was named
    const f = data as { type?: string; size?: number; content?: string; encoding?: string };
    if (f.type !== 'file') return null;
    if ((f.size ?? 0) > MAX_REPO_FILE_BYTES)
      throw new Error(`${path}: larger than ${MAX_REPO_FILE_BYTES} bytes: not read`);
    if (f.encoding !== 'base64' || typeof f.content !== 'string')
      throw new Error(`${path}: GitHub gave no content`);
    return Buffer.from(f.content, 'base64').toString('utf8');
  };
  const readFile = async (path: string) => {
    if (!texts.has(path)) texts.set(path, decode(path, await get(path)));
  };
  // The policy at that commit (the store's may not be read again yet): what it names is what is read.
  await readFile(policyPath);
  const policyText = texts.get(policyPath) ?? null;
  let policy: Policy | null = null;
  if (policyText !== null) {
    try {
      policy = loadPolicy(policyText, policyPath).policy;
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
    }
  }
  // Without a policy that loads, readiness looks for postmortems where it would by default.
  const { files, dirs } = policy
    ? readinessPaths(policy)
    : { files: ['postmortems/TEMPLATE.md'], dirs: ['postmortems'] };
  for (const path of files) await readFile(path);
  for (const dir of dirs) {
    if (lists.has(dir)) continue;
    const data = await get(dir);
    if (!Array.isArray(data)) {
      lists.set(dir, null);
      continue;
    }
    const entries = data as Entry[];
    lists.set(
      dir,
      entries.map((e) => e.name),
    );
    const wanted = entries
      .filter((e) => e.type === 'file' && (e.name.endsWith('.json') || e.name.endsWith('.md')))
      .sort((a, b) => a.name.localeCompare(b.name))
      .slice(0, MAX_FILES_PER_DIR);
    for (const e of wanted) {
      const path = `${dir}/${e.name}`;
      if (e.size > MAX_REPO_FILE_BYTES)
        throw new Error(`${path}: larger than ${MAX_REPO_FILE_BYTES} bytes: not read`);
      await readFile(path);
    }
  }
  return {
    files: { read: (p) => texts.get(p) ?? null, list: (d) => lists.get(d) ?? null },
    policy,
    requests,
  };
}

/** GitHub lists at most this many files of a comparison: past it, the list says nothing of the rest. */
const COMPARE_FILES_CAP = 300;

/**
 * Whether the commits from `base` to `head` touch anything readiness reads (the policy, a runbook
 * the alerts name, the template, the drills and postmortems folders): one request. True when it
 * cannot tell (GitHub lists at most 300 files, or `base` is not an ancestor any more).
 */
export async function touchesReadiness(
  gh: GitHubClient,
  repo: RepoRef,
  base: string,
  head: string,
  policy: Policy,
  policyPath: string,
): Promise<boolean> {
  const res = await gh.request('GET /repos/{owner}/{repo}/compare/{basehead}', {
    ...repo,
    basehead: `${base}...${head}`,
    per_page: 1,
  });
  const data = res.data as {
    status?: string;
    files?: Array<{ filename: string; previous_filename?: string }>;
  };
  const files = data.files ?? [];
  if (data.status === 'diverged' || data.status === 'behind' || files.length >= COMPARE_FILES_CAP)
    return true;
  const { files: read, dirs } = readinessPaths(policy);
  const wanted = new Set([...read, policyPath]);
  const hit = (f: string) => wanted.has(f) || dirs.some((d) => f.startsWith(`${d}/`));
  return files.some((f) => hit(f.filename) || (f.previous_filename ? hit(f.previous_filename) : false));
}
