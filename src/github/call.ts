import type { Endpoints } from '@octokit/types';
import { needing } from './errors.ts';
import type { GitHubClient } from './octokit.ts';

/**
 * One REST call by its route, with the permission a refusal names: the call is shown with its
 * parameters filled in (`POST /repos/acme/agents/pulls/7/requested_reviewers`), so a 403 says which.
 */
export function callNeeding<R extends keyof Endpoints>(
  gh: GitHubClient,
  permission: string,
  route: R,
  params: Endpoints[R]['parameters'],
  opts: { notFoundMeansDenied?: boolean } = {},
): Promise<Endpoints[R]['response']> {
  const [method, path] = (route as string).split(' ') as [string, string];
  const values = params as Record<string, unknown>;
  const shown = path.replace(/\{(\w+)\}/g, (whole, k: string) => (k in values ? String(values[k]) : whole));
  return needing(
    permission,
    `${method} ${shown}`,
    // Octokit's overloads cannot see through a generic route; the types above carry the contract.
    () => (gh.request as (r: string, p: unknown) => Promise<Endpoints[R]['response']>)(route, params),
    opts,
  );
}
