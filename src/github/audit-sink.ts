import type { AuditSink } from '../policy/overrides/ports.ts';
import { type AppendResult, type AuditPolicy, appendAuditEntry } from './audit-log.ts';
import { GitHubPermissionError } from './errors.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';

/** The App a workflow's GITHUB_TOKEN acts as. */
const ACTIONS_APP = 'github-actions';
const ACTIONS_ANCHOR_WARNING =
  'audit log: the record was anchored as the `github-actions` app (the workflow token): any workflow in this ' +
  'repository with `checks: write` acts as that app, so it could write or update these anchors. Give the action ' +
  "the budget-gate App's installation token (`actions/create-github-app-token`, the README's recommended setup)";

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
        const result = await appendAuditEntry(gh, repo, audit, entry, {
          isDuplicate,
          // Checked against, and anchored in, check runs a branch rewrite cannot reach.
          anchor: true,
          ...(opts.sleep ? { sleep: opts.sleep } : {}),
        });
        if (result.anchor?.app === ACTIONS_APP) opts.warn?.(ACTIONS_ANCHOR_WARNING);
        return result;
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
