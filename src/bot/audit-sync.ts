import { readAuditLog } from '../github/audit-log.ts';
import type { GitHubClient, RepoRef } from '../github/octokit.ts';
import type { Policy } from '../policy/spec/schema.ts';
import type { SqlRecords } from '../store/records.ts';
import type { BotLog } from './log.ts';

// The audit log, kept in the store for the dashboard and the incident timeline. The Action (and the
// bot's own label check) write it to the audit branch through the Contents API; the bot reads it
// back:
// - after a push to that branch (the `push` webhook marks the log stale), at the repository's next
//   evaluation;
// - the first time it evaluates a repository, and when the policy names another branch or path;
// - otherwise once every `revalidateMs` (default 1 h), conditionally: an unchanged log is a 304,
//   which costs no rate limit, and catches a push whose webhook was lost.
// The chain is verified as a writer verifies it; a record the store holds with another hash means
// the log was rewritten since: the store keeps what it read first and says so.

type Records = Pick<SqlRecords, 'auditLog' | 'saveAuditLog' | 'addAuditRecords'>;

export interface AuditSyncOptions {
  records: Records;
  log: BotLog;
  revalidateMs?: number;
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
  constructor(o: AuditSyncOptions) {
    this.o = { revalidateMs: AUDIT_REVALIDATE_MS, ...o };
  }

  /** Reads the log when it is due (see above); null when it is not. */
  async maybe(gh: GitHubClient, repo: RepoRef, policy: Policy, now: number): Promise<AuditSynced | null> {
    const full = `${repo.owner}/${repo.repo}`;
    const audit = policy.overrides.audit;
    const s = await this.o.records.auditLog(full);
    const due =
      !s ||
      s.stale ||
      s.branch !== audit.branch ||
      s.path !== audit.path ||
      s.checked_at === null ||
      now - s.checked_at >= this.o.revalidateMs;
    return due ? this.sync(gh, repo, policy, now) : null;
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
