import { type AuditAnchor, checkContinuity } from '../policy/overrides/audit-anchor.ts';
import {
  type AuditEntry,
  type AuditRecord,
  chainRecord,
  serializeRecord,
  verifyChain,
} from '../policy/overrides/audit-chain.ts';
import type { OverridesPolicy } from '../policy/spec/schema.ts';
import { readAnchors, type WrittenAnchor, writeAnchor } from './audit-anchor.ts';
import { RequestError, statusOf } from './errors.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';

// Appends one hash-chained record to the audit log: a JSONL file on its own branch, written
// through the Contents API with the `sha` it was read at. A concurrent run that wrote first makes
// GitHub answer 409/422; we re-read and chain onto its record, so no run overwrites another's.
// The branch is created as an orphan holding only the log: no copy of the code, and no workflow
// files that a push to it could trigger.
//
// With `anchor`, the log's head is also anchored outside the branch (see audit-anchor.ts): before
// appending, the log must still hold every anchored record, or nothing is written and the
// AuditTamperedError names the first record that differs; after appending, the new head is
// anchored. Logs of any size: GitHub's Contents API serves file content up to 1 MB (and answers
// 403 `too_large` past that for its default media type), so the file is asked for with the
// `object` media type and a larger one's content is read from the Git blob API (up to 100 MB).

export type AuditPolicy = OverridesPolicy['audit'];

export interface AppendOptions {
  maxAttempts?: number;
  /** Backoff between conflicting attempts; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** A record already in the log that stands for this entry (a re-run of the same job): nothing is written. */
  isDuplicate?: (existing: AuditRecord) => boolean;
  /**
   * Check the log against the anchors written outside the branch before appending, and anchor the
   * new head after (needs `checks: write`; see audit-anchor.ts).
   */
  anchor?: boolean;
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
  /** The head anchored by this append (null without `anchor`, or when the head was anchored already). */
  anchor: WrittenAnchor | null;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class AuditLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditLogError';
  }
}

/** The log on the branch is not the one that was anchored: it was rewritten, truncated or deleted. */
export class AuditTamperedError extends AuditLogError {
  /** The first record known to differ or to be missing. */
  readonly seq: number;
  constructor(audit: AuditPolicy, seq: number, problem: string) {
    super(
      `the audit log ${audit.path} on branch ${audit.branch} was rewritten: ${problem}. Nothing is recorded ` +
        'on a rewritten log, so the override is not honoured: restore the branch from its history (the anchor ' +
        'check runs "budget-gate audit anchor" hold every head hash) and protect the audit branch',
    );
    this.name = 'AuditTamperedError';
    this.seq = seq;
  }
}

interface LogFile {
  text: string;
  sha: string;
}

/** The log's text and blob sha, or null when the branch or the file does not exist yet. */
async function readAuditFile(gh: GitHubClient, repo: RepoRef, audit: AuditPolicy): Promise<LogFile | null> {
  const read = await readAuditFileIf(gh, repo, audit, null);
  return read === 'unchanged' ? null : read;
}

/** As readAuditFile, with the ETag of an earlier read: 'unchanged' when GitHub answers 304. */
async function readAuditFileIf(
  gh: GitHubClient,
  repo: RepoRef,
  audit: AuditPolicy,
  etag: string | null,
): Promise<(LogFile & { etag: string | null }) | null | 'unchanged'> {
  let res: Awaited<ReturnType<typeof getContents>>;
  try {
    res = await getContents(gh, repo, audit, etag);
  } catch (e) {
    if (statusOf(e) === 404) return null;
    if (statusOf(e) === 304) return 'unchanged';
    throw e;
  }
  const data = res.data;
  if (Array.isArray(data) || data.type !== 'file') {
    throw new AuditLogError(
      `${audit.path} on branch ${audit.branch} is not a file: set overrides.audit.path to a file`,
    );
  }
  let b64 = 'content' in data ? data.content : '';
  // Over 1 MB the object media type answers `content: ""`, `encoding: "none"`: the blob API serves it.
  if (!b64 && data.size > 0) {
    const blob = await gh.request('GET /repos/{owner}/{repo}/git/blobs/{file_sha}', {
      ...repo,
      file_sha: data.sha,
    });
    b64 = blob.data.content;
  }
  return {
    text: Buffer.from(b64 ?? '', 'base64').toString('utf8'),
    sha: data.sha,
    etag: res.headers.etag ?? null,
  };
}

function getContents(gh: GitHubClient, repo: RepoRef, audit: AuditPolicy, etag: string | null = null) {
  return gh.request('GET /repos/{owner}/{repo}/contents/{path}', {
    ...repo,
    path: audit.path,
    ref: audit.branch,
    headers: { accept: 'application/vnd.github.object+json', ...(etag ? { 'if-none-match': etag } : {}) },
  });
}

export type AuditLogRead =
  | { kind: 'unchanged' }
  | { kind: 'none' }
  | { kind: 'records'; records: AuditRecord[]; etag: string | null };

/**
 * The log's records for a reader that keeps them (the bot's store, for the dashboard): with the
 * ETag of the last read an unchanged log is a 304, free of the rate limit. A log whose chain does
 * not verify is an AuditLogError, as for a writer: nothing is taken from a tampered log.
 */
export async function readAuditLog(
  gh: GitHubClient,
  repo: RepoRef,
  audit: AuditPolicy,
  etag: string | null,
): Promise<AuditLogRead> {
  const file = await readAuditFileIf(gh, repo, audit, etag);
  if (file === 'unchanged') return { kind: 'unchanged' };
  if (file === null) return { kind: 'none' };
  return { kind: 'records', records: recordsOf(file, audit), etag: file.etag };
}

/** The records of the log as read; a chain that does not verify is never appended to. */
function recordsOf(file: LogFile | null, audit: AuditPolicy): AuditRecord[] {
  if (!file) return [];
  const v = verifyChain(file.text);
  if (v.ok) return v.records;
  throw new AuditLogError(
    `the audit log ${audit.path} on branch ${audit.branch} does not verify (line ${v.line}: ${v.problem}): ` +
      'nothing is appended to a tampered log; run `budget-gate audit verify` and restore it from git history',
  );
}

/** Throws AuditTamperedError unless the log holds every anchored record; returns the newest anchored seq. */
function assertContinuous(records: AuditRecord[], anchors: AuditAnchor[], audit: AuditPolicy): number {
  const c = checkContinuity(records, anchors);
  if (!c.ok) throw new AuditTamperedError(audit, c.seq, c.problem);
  return c.anchored;
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
    const file = await readAuditFile(gh, repo, audit);
    const records = recordsOf(file, audit);
    const read = opts.anchor ? await readAnchors(gh, repo, audit) : null;
    const anchored = read ? assertContinuous(records, read.anchors, audit) : 0;
    const earlier = opts.isDuplicate ? records.find(opts.isDuplicate) : undefined;
    if (earlier && file) {
      // A re-run after a write whose anchor failed: anchor the head now.
      const last = records.at(-1)!;
      const anchor = read && anchored < last.seq ? await writeAnchor(gh, repo, audit, last, read) : null;
      return {
        record: earlier,
        file_sha: file.sha,
        commit_sha: null,
        attempts: attempt,
        created_branch: false,
        duplicate: true,
        anchor,
      };
    }
    const record = chainRecord(records.at(-1) ?? null, entry);
    const text = (file?.text ?? '') + serializeRecord(record);
    const message = `budget-gate audit #${record.seq}: ${record.kind} ${record.label}`;
    let written: Omit<AppendResult, 'anchor'>;
    try {
      written = await writeLog(gh, repo, audit, { file, branchExists, text, message, record, attempt });
    } catch (e) {
      // 409: our sha is stale; 422: the file appeared (no sha sent) or the branch already exists.
      // (A branch rule's 409/422 arrives classified, as GitHubProtectedBranchError: not a conflict.)
      if (!(e instanceof RequestError) || (e.status !== 409 && e.status !== 422)) throw e;
      if (!file) branchExists = true;
      continue;
    }
    // Outside the retry: the record is written, so a failed anchor must not write it again.
    return { ...written, anchor: read ? await writeAnchor(gh, repo, audit, record, read) : null };
  }
  throw new AuditLogError(
    `could not append to ${audit.path} on branch ${audit.branch}: ${maxAttempts} attempts conflicted with concurrent writes`,
  );
}

async function writeLog(
  gh: GitHubClient,
  repo: RepoRef,
  audit: AuditPolicy,
  w: {
    file: LogFile | null;
    branchExists: boolean;
    text: string;
    message: string;
    record: AuditRecord;
    attempt: number;
  },
): Promise<Omit<AppendResult, 'anchor'>> {
  const done = { record: w.record, attempts: w.attempt, duplicate: false };
  if (!w.file && !w.branchExists) {
    const commit = await createOrphanBranch(gh, repo, audit, w.text, w.message);
    return { ...done, file_sha: commit.blob, commit_sha: commit.sha, created_branch: true };
  }
  // The Contents API takes files of any size the repository accepts: no 1 MB limit on writes.
  const res = await gh.request('PUT /repos/{owner}/{repo}/contents/{path}', {
    ...repo,
    path: audit.path,
    branch: audit.branch,
    message: w.message,
    content: Buffer.from(w.text, 'utf8').toString('base64'),
    ...(w.file ? { sha: w.file.sha } : {}),
  });
  return {
    ...done,
    file_sha: res.data.content?.sha ?? null,
    commit_sha: res.data.commit.sha ?? null,
    created_branch: false,
  };
}

/** tree → parentless commit → ref. A 422 on the ref means another run created the branch first. */
async function createOrphanBranch(
  gh: GitHubClient,
  repo: RepoRef,
  audit: AuditPolicy,
  text: string,
  message: string,
): Promise<{ sha: string; blob: string | null }> {
  const tree = await gh.request('POST /repos/{owner}/{repo}/git/trees', {
    ...repo,
    tree: [{ path: audit.path, mode: '100644', type: 'blob', content: text }],
  });
  const commit = await gh.request('POST /repos/{owner}/{repo}/git/commits', {
    ...repo,
    message,
    tree: tree.data.sha,
    parents: [],
  });
  await gh.request('POST /repos/{owner}/{repo}/git/refs', {
    ...repo,
    ref: `refs/heads/${audit.branch}`,
    sha: commit.data.sha,
  });
  const blob = tree.data.tree.find((t) => t.path === audit.path)?.sha ?? null;
  return { sha: commit.data.sha, blob };
}
