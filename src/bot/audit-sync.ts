import { readAuditLog } from '../github/audit-log.ts';
import type { GitHubClient, RepoRef } from '../github/octokit.ts';
import { DEFAULT_POLICY_PATH } from '../policy/spec/load.ts';
import type { Policy } from '../policy/spec/schema.ts';
import type { AuditLogState, SqlRecords } from '../store/records.ts';
import type { RepoRow } from '../store/repos.ts';
import { readDueRepos } from './due-repos.ts';
import type { BotLog } from './log.ts';
import { PolicyCache } from './policy-cache.ts';

// The audit log, kept in the store for the dashboard and the incident timeline. The Action (and the
// bot's own label check) write it to the audit branch through the Contents API; the bot reads it
// back in a loop of its own (every BUDGET_GATE_AUDIT_EVERY, the first one interval after start, so
// a start's burst of discovery, policy reads and recovery is not joined by it, and an evaluation
// round never waits on a large log), for each repository whose policy the store holds:
// - after a push to that branch (the `push` webhook marks the log stale);
// - when it has never been read, or the policy names another branch or path;
// - otherwise once every `revalidateMs` (default 1 h), conditionally: an unchanged log is a 304,
//   which costs no rate limit, and catches a push whose webhook was lost.
// Each read is claimed first (a compare-and-set in the store), so two replicas read a log once.
// The chain is verified as a writer verifies it; a record the store holds with another hash means
// the log was rewritten since: the store keeps what it read first and says so.

type Records = Pick<SqlRecords, 'auditLog' | 'auditLogs' | 'claimAudit' | 'saveAuditLog' | 'addAuditRecords'>;

export interface AuditSyncOptions {
  records: Records;
  log: BotLog;
  /** Where the policy lives in each repository (for its messages). */
  policyPath?: string;
  revalidateMs?: number;
  /** Logs read (not merely looked at) per round at most: the rest wait for the next round. */
  maxReads?: number;
}

export interface AuditRound {
  looked: number;
  read: number;
  unchanged: number;
  none: number;
  failed: number;
  added: number;
}

export interface AuditSynced {
  /** What was asked of GitHub: read (200), unchanged (304), none (404), or failed. */
  read: 'read' | 'unchanged' | 'none' | 'failed';
  added: number;
  error: string | null;
}

const AUDIT_REVALIDATE_MS = 3_600_000;

export class AuditSync {
  private readonly o: Required<AuditSyncOptions>;
  private readonly policies = new PolicyCache();
  constructor(o: AuditSyncOptions) {
    this.o = {
      revalidateMs: AUDIT_REVALIDATE_MS,
      maxReads: 200,
      policyPath: DEFAULT_POLICY_PATH,
      ...o,
    };
  }

  private due(s: AuditLogState | null, policy: Policy, now: number): boolean {
    const audit = policy.overrides.audit;
    return (
      !s ||
      s.stale ||
      s.branch !== audit.branch ||
      s.path !== audit.path ||
      s.checked_at === null ||
      now - s.checked_at >= this.o.revalidateMs
    );
  }

  /** One round over the repositories the store lists: every log that is due and claimed here is read. */
  async round(
    repos: ReadonlyArray<
      Pick<
        RepoRow,
        'full_name' | 'owner' | 'repo' | 'installation_id' | 'active' | 'policy_status' | 'policy_text'
      >
    >,
    auth: (installationId: number) => Promise<GitHubClient>,
    now: number,
  ): Promise<AuditRound> {
    const out: AuditRound = { looked: 0, read: 0, unchanged: 0, none: 0, failed: 0, added: 0 };
    const { looked } = await readDueRepos({
      repos,
      policies: this.policies,
      policyPath: this.o.policyPath,
      states: new Map((await this.o.records.auditLogs()).map((s) => [s.repo, s])),
      due: (s, policy) => this.due(s, policy, now),
      maxReads: this.o.maxReads,
      claim: (r, policy, s) => this.o.records.claimAudit(r.full_name, policy.overrides.audit, s, now),
      read: async (r, policy) => {
        let gh: GitHubClient;
        try {
          gh = await auth(r.installation_id);
        } catch (e) {
          // The installation's token could not be had: this log waits for its next look, the rest go on.
          this.o.log.warn(`${r.full_name}: audit log not read: ${(e as Error).message}`);
          out.failed++;
          return;
        }
        const x = await this.sync(gh, { owner: r.owner, repo: r.repo }, policy, now);
        out[x.read]++;
        out.added += x.added;
      },
    });
    out.looked = looked;
    return out;
  }

  async sync(gh: GitHubClient, repo: RepoRef, policy: Policy, now: number): Promise<AuditSynced> {
    const full = `${repo.owner}/${repo.repo}`;
    const audit = policy.overrides.audit;
    const { records } = this.o;
    const s = await records.auditLog(full);
    const same = !!s && s.branch === audit.branch && s.path === audit.path;
    const save = (etag: string | null, head: number, error: string | null) =>
      records.saveAuditLog({
        repo: full,
        branch: audit.branch,
        path: audit.path,
        etag,
        checked_at: now,
        head_seq: head,
        error,
      });
    try {
      // After an error the log is read in full: the error is worked out again, never kept by a 304.
      const r = await readAuditLog(gh, repo, audit, same && !s.error ? s.etag : null);
      if (r.kind === 'unchanged') {
        await save(s!.etag, s!.head_seq, null);
        return { read: 'unchanged', added: 0, error: null };
      }
      if (r.kind === 'none') {
        await save(null, 0, null);
        return { read: 'none', added: 0, error: null };
      }
      const { added, rewritten } = await records.addAuditRecords(full, r.records);
      const error =
        rewritten.length > 0
          ? `record${rewritten.length === 1 ? '' : 's'} ${rewritten.join(', ')} differ from what budget-gate read before: the log was rewritten (run \`budget-gate audit verify\` and restore it from the branch's history)`
          : null;
      if (error) this.o.log.warn(`${full}: audit log: ${error}`);
      await save(r.etag, r.records.at(-1)?.seq ?? 0, error);
      return { read: 'read', added: added.length, error };
    } catch (e) {
      const error = (e as Error).message;
      this.o.log.warn(`${full}: audit log not read: ${error}`);
      await save(s?.etag ?? null, s?.head_seq ?? 0, error);
      return { read: 'failed', added: 0, error };
    }
  }
}
