import type { GitHubClient, RepoRef } from '../github/octokit.ts';
import { readPolicyText } from '../github/policy-file.ts';
import { formatProblem, type LoadedPolicy, loadPolicy, PolicyError } from '../policy/load.ts';

export type PolicyLookup =
  | { kind: 'none' }
  | { kind: 'invalid'; message: string }
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
      return { kind: 'invalid', message: e.problems.map(formatProblem).join('; ') };
    throw e;
  }
}
