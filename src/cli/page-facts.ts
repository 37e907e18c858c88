import { readFile } from 'node:fs/promises';
import { GITHUB_WEB, type Link } from '../notify/links.ts';

// What a page sent from the CLI links to, from its flags or, in GitHub Actions, from the run it is
// part of: the workflow run is where the decision was made and can be read, the event payload
// names the repository's default branch, GITHUB_SERVER_URL is the GitHub (or GHES) host.

/** GitHub's web address: GITHUB_SERVER_URL (Actions sets it; a GHES host), else github.com. */
export function githubServer(env: Record<string, string | undefined>): string {
  const s = env.GITHUB_SERVER_URL?.trim();
  return s && /^https?:\/\//.test(s) ? s.replace(/\/+$/, '') : GITHUB_WEB;
}

/** The decision's link: --decision-url, else this workflow run in GitHub Actions, else why there is none. */
export function decisionLink(
  flag: string | undefined,
  env: Record<string, string | undefined>,
): { link: Link | null; missing: string } {
  if (flag) return { link: { href: flag, text: 'budget-gate decision' }, missing: '' };
  const { GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run, GITHUB_RUN_ATTEMPT: attempt } = env;
  if (repo && run && /^\d+$/.test(run)) {
    const href = `${githubServer(env)}/${repo}/actions/runs/${run}${attempt && attempt !== '1' ? `/attempts/${attempt}` : ''}`;
    return { link: { href, text: 'budget-gate decision (workflow run)' }, missing: '' };
  }
  return {
    link: null,
    missing: 'not linked: pass --decision-url (in GitHub Actions the workflow run is linked by itself)',
  };
}

/**
 * The default branch runbook paths are linked on: --branch, else the Actions event payload's
 * repository.default_branch, else null (the link says HEAD, which GitHub resolves to the default
 * branch).
 */
export async function defaultBranch(
  flag: string | undefined,
  env: Record<string, string | undefined>,
): Promise<string | null> {
  if (flag) return flag;
  const path = env.GITHUB_EVENT_PATH;
  if (!path) return null;
  try {
    const text = await readFile(path, 'utf8');
    if (text.length > 25 << 20) return null;
    const b = (JSON.parse(text) as { repository?: { default_branch?: unknown } }).repository?.default_branch;
    return typeof b === 'string' && b.length > 0 && b.length < 256 ? b : null;
  } catch {
    // Best effort: without it the link names HEAD, which GitHub resolves to the same branch.
    return null;
  }
}
