import type { AuditSink } from '../policy/overrides/ports.ts';
import { type AppendResult, type AuditPolicy, appendAuditEntry } from './audit-log.ts';
import { GitHubPermissionError } from './errors.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';

/** The audit log on its branch, as the gate pipeline writes to it. */
export function githubAuditSink(
  gh: GitHubClient,
  repo: RepoRef,
  audit: AuditPolicy,
  opts: { sleep?: (ms: number) => Promise<void>; warn?: (message: string) => void } = {},
): AuditSink<AppendResult> {
  return {
    async append(entry, isDuplicate) {
      try {
        return await appendAuditEntry(gh, repo, audit, entry, {
          isDuplicate,
          // Checked against, and anchored in, check runs a branch rewrite cannot reach.
          anchor: true,
          ...(opts.sleep ? { sleep: opts.sleep } : {}),
        });
      } catch (e) {
        opts.warn?.(`audit log: ${(e as Error).message}`);
        // The reason a person reads in the decision: what to grant, not the whole refusal.
        if (e instanceof GitHubPermissionError)
          throw new Error(`GitHub answered ${e.status}: the token needs \`${e.permission}\``);
        throw e;
      }
    },
  };
}
