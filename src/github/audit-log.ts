import {
  type AuditEntry,
  type AuditRecord,
  chainRecord,
  parseAuditLog,
  serializeRecord,
} from '../policy/audit.ts';
import type { OverridesPolicy } from '../policy/schema.ts';
import { needing, statusOf } from './errors.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';

// Appends one hash-chained record to the audit log: a JSONL file on its own branch, written
// through the Contents API with the `sha` it was read at. A concurrent run that wrote first makes
// GitHub answer 409/422; we re-read and chain onto its record, so no run overwrites another's.
// The branch is created as an orphan holding only the log: no copy of the code, and no workflow
// files that a push to it could trigger.

export type AuditPolicy = OverridesPolicy['audit'];

export interface AppendOptions {
  maxAttempts?: number;
  /** Backoff between conflicting attempts; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** A record already in the log that stands for this entry (a re-run of the same job): nothing is written. */
  isDuplicate?: (existing: AuditRecord) => boolean;
}

export interface AppendResult {
  record: AuditRecord;
  /** The log file's blob sha after the write. */
  file_sha: string | null;
  commit_sha: string | null;
  attempts: number;
  created_branch: boolean;
  /** The entry was already logged; `record` is the earlier record. */
  duplicate: boolean;
}

const CONTENTS_WRITE = 'contents: write';
const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class AuditLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditLogError';
  }
}

interface LogFile {
  text: string;
  sha: string;
}

/** The log's text and blob sha, or null when the branch or the file does not exist yet. */
export async function readAuditFile(
  gh: GitHubClient,
  repo: RepoRef,
  audit: AuditPolicy,
): Promise<LogFile | null> {
  let res: Awaited<ReturnType<typeof getContents>>;
  try {
    res = await getContents(gh, repo, audit);
  } catch (e) {
    if (statusOf(e) === 404) return null;
    throw e;
  }
  const data = res.data;
  if (Array.isArray(data) || data.type !== 'file') {
    throw new AuditLogError(
      `${audit.path} on branch ${audit.branch} is not a file: set overrides.audit.path to a file`,
    );
  }
  let b64 = 'content' in data ? data.content : '';
  // Files over 1 MB come without content; the blob API serves them up to 100 MB.
  if (!b64 && data.size > 0) {
    const blob = await gh.request('GET /repos/{owner}/{repo}/git/blobs/{file_sha}', {
      ...repo,
      file_sha: data.sha,
    });
    b64 = blob.data.content;
  }
  return { text: Buffer.from(b64 ?? '', 'base64').toString('utf8'), sha: data.sha };
}

function getContents(gh: GitHubClient, repo: RepoRef, audit: AuditPolicy) {
  return gh.request('GET /repos/{owner}/{repo}/contents/{path}', {
    ...repo,
    path: audit.path,
    ref: audit.branch,
  });
}

export async function appendAuditEntry(
  gh: GitHubClient,
  repo: RepoRef,
  audit: AuditPolicy,
  entry: AuditEntry,
  opts: AppendOptions = {},
): Promise<AppendResult> {
  const maxAttempts = opts.maxAttempts ?? 5;
  const sleep = opts.sleep ?? realSleep;
  let branchExists = false;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await sleep(150 * attempt + Math.floor(Math.random() * 100));
    const file = await needing('contents: read', `GET contents/${audit.path}@${audit.branch}`, () =>
      readAuditFile(gh, repo, audit),
    );
    let records: AuditRecord[] = [];
    if (file) {
      try {
        records = parseAuditLog(file.text);
      } catch (e) {
        throw new AuditLogError(
          `the audit log ${audit.path} on branch ${audit.branch} does not verify (${(e as Error).message}): ` +
            'nothing is appended to a tampered log; run `budget-gate audit verify` and restore it from git history',
        );
      }
    }
    const earlier = opts.isDuplicate ? records.find(opts.isDuplicate) : undefined;
    if (earlier && file) {
      return {
        record: earlier,
        file_sha: file.sha,
        commit_sha: null,
        attempts: attempt,
        created_branch: false,
        duplicate: true,
      };
    }
    const record = chainRecord(records.at(-1) ?? null, entry);
    const text = (file ? withTrailingNewline(file.text) : '') + serializeRecord(record);
    const message = `budget-gate audit #${record.seq}: ${record.kind} ${record.label}`;
    try {
      if (!file && !branchExists) {
        const commit = await createOrphanBranch(gh, repo, audit, text, message);
        return {
          record,
          file_sha: commit.blob,
          commit_sha: commit.sha,
          attempts: attempt,
          created_branch: true,
          duplicate: false,
        };
      }
      const res = await needing(CONTENTS_WRITE, `PUT contents/${audit.path}@${audit.branch}`, () =>
        gh.request('PUT /repos/{owner}/{repo}/contents/{path}', {
          ...repo,
          path: audit.path,
          branch: audit.branch,
          message,
          content: Buffer.from(text, 'utf8').toString('base64'),
          ...(file ? { sha: file.sha } : {}),
        }),
      );
      return {
        record,
        file_sha: res.data.content?.sha ?? null,
        commit_sha: res.data.commit.sha ?? null,
        attempts: attempt,
        created_branch: false,
        duplicate: false,
      };
    } catch (e) {
      const status = statusOf(e);
      // 409: our sha is stale; 422: the file appeared (no sha sent) or the branch already exists.
      if (status !== 409 && status !== 422) throw e;
      if (!file) branchExists = true;
    }
  }
  throw new AuditLogError(
    `could not append to ${audit.path} on branch ${audit.branch}: ${maxAttempts} attempts conflicted with concurrent writes`,
  );
}

const withTrailingNewline = (s: string) => (s === '' || s.endsWith('\n') ? s : `${s}\n`);

/** tree → parentless commit → ref. A 422 on the ref means another run created the branch first. */
async function createOrphanBranch(
  gh: GitHubClient,
  repo: RepoRef,
  audit: AuditPolicy,
  text: string,
  message: string,
): Promise<{ sha: string; blob: string | null }> {
  const call = (what: string) => `POST /repos/${repo.owner}/${repo.repo}/git/${what}`;
  const tree = await needing(CONTENTS_WRITE, call('trees'), () =>
    gh.request('POST /repos/{owner}/{repo}/git/trees', {
      ...repo,
      tree: [{ path: audit.path, mode: '100644', type: 'blob', content: text }],
    }),
  );
  const commit = await needing(CONTENTS_WRITE, call('commits'), () =>
    gh.request('POST /repos/{owner}/{repo}/git/commits', {
      ...repo,
      message,
      tree: tree.data.sha,
      parents: [],
    }),
  );
  await needing(CONTENTS_WRITE, call('refs'), () =>
    gh.request('POST /repos/{owner}/{repo}/git/refs', {
      ...repo,
      ref: `refs/heads/${audit.branch}`,
      sha: commit.data.sha,
    }),
  );
  const blob = tree.data.tree.find((t) => t.path === audit.path)?.sha ?? null;
  return { sha: commit.data.sha, blob };
}
