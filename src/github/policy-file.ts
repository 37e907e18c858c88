import { type LoadedPolicy, loadPolicy } from '../policy/load.ts';
import { needing, statusOf } from './errors.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';

// The bot reads the policy from the repository at a ref (the action reads its checkout instead).

export const DEFAULT_POLICY_PATH = '.github/error-budget.yml';

/** The policy file's text at `ref` (default branch when omitted), or null when it does not exist. */
export async function readPolicyText(
  gh: GitHubClient,
  repo: RepoRef,
  path = DEFAULT_POLICY_PATH,
  ref?: string,
): Promise<string | null> {
  try {
    const res = await needing(
      'contents: read',
      `GET /repos/${repo.owner}/${repo.repo}/contents/${path}`,
      () =>
        gh.request('GET /repos/{owner}/{repo}/contents/{path}', { ...repo, path, ...(ref ? { ref } : {}) }),
    );
    const data = res.data;
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) {
      throw new Error(`${path} in ${repo.owner}/${repo.repo} is not a file`);
    }
    return Buffer.from(data.content, 'base64').toString('utf8');
  } catch (e) {
    if (statusOf(e) === 404) return null;
    throw e;
  }
}

/**
 * The loaded policy, or null when the repository has none. A malformed policy throws the core's
 * PolicyError, whose problems name `path:line:col`.
 */
export async function fetchPolicy(
  gh: GitHubClient,
  repo: RepoRef,
  path = DEFAULT_POLICY_PATH,
  ref?: string,
): Promise<LoadedPolicy | null> {
  const text = await readPolicyText(gh, repo, path, ref);
  return text === null ? null : loadPolicy(text, path);
}
