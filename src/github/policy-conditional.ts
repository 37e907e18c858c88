import { statusOf } from './errors.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';

// The policy file read with the ETag of the last read: GitHub answers 304 Not Modified when the
// file is unchanged, and a 304 does not count against the installation's primary rate limit. The
// always-on service reads every installed repository's policy this way.

export type ConditionalPolicy =
  | { kind: 'unchanged' }
  | { kind: 'none' }
  | { kind: 'text'; text: string; etag: string | null };

export async function readPolicyConditional(
  gh: GitHubClient,
  repo: RepoRef,
  path: string,
  ref: string,
  etag: string | null,
): Promise<ConditionalPolicy> {
  try {
    const res = await gh.request('GET /repos/{owner}/{repo}/contents/{path}', {
      ...repo,
      path,
      ref,
      ...(etag ? { headers: { 'if-none-match': etag } } : {}),
    });
    const data = res.data;
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) {
      throw new Error(`${path} in ${repo.owner}/${repo.repo} is not a file`);
    }
    return {
      kind: 'text',
      text: Buffer.from(data.content, 'base64').toString('utf8'),
      etag: res.headers.etag ?? null,
    };
  } catch (e) {
    const status = statusOf(e);
    if (status === 304) return { kind: 'unchanged' };
    if (status === 404) return { kind: 'none' };
    throw e;
  }
}
