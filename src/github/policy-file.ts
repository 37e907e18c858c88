import {
  DEFAULT_POLICY_PATH,
  formatProblem,
  type LoadedPolicy,
  loadPolicy,
  PolicyError,
  type PolicyProblem,
} from '../policy/spec/load.ts';
import { statusOf } from './errors.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';

// The bot reads the policy from the repository at a ref (the Action and the CLI read a file on disk:
// src/gate/read-policy.ts); both hand the text to the core's loadPolicy.

/** The policy file's text at `ref` (default branch when omitted), or null when it does not exist. */
async function readPolicyText(
  gh: GitHubClient,
  repo: RepoRef,
  path = DEFAULT_POLICY_PATH,
  ref?: string,
): Promise<string | null> {
  try {
    const res = await gh.request('GET /repos/{owner}/{repo}/contents/{path}', {
      ...repo,
      path,
      ...(ref ? { ref } : {}),
    });
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

export type PolicyLookup =
  | { kind: 'none' }
  | { kind: 'invalid'; message: string; problems: PolicyProblem[] }
  | { kind: 'ok'; loaded: LoadedPolicy; text: string };

/** The repository's policy at `ref`: absent, invalid (with its file:line:col problems), or loaded. */
export async function policyAt(
  gh: GitHubClient,
  repo: RepoRef,
  path: string,
  ref: string | undefined,
): Promise<PolicyLookup> {
  const text = await readPolicyText(gh, repo, path, ref);
  if (text === null) return { kind: 'none' };
  try {
    return { kind: 'ok', loaded: loadPolicy(text, path), text };
  } catch (e) {
    if (e instanceof PolicyError)
      return { kind: 'invalid', message: e.problems.map(formatProblem).join('; '), problems: e.problems };
    throw e;
  }
}
