import { createHash } from 'node:crypto';
import { type AuditAnchor, formatAnchor, parseAnchor } from '../policy/overrides/audit-anchor.ts';
import type { AuditRecord } from '../policy/overrides/audit-chain.ts';
import type { OverridesPolicy } from '../policy/spec/schema.ts';
import { needing, statusOf } from './errors.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';

// Where the audit log's head is anchored, out of reach of a rewrite of the audit branch.
//
// The threat: someone with `contents: write` rewrites the audit branch (edits a record and
// recomputes the chain, drops the newest records, deletes the log). Git refs, branches and tags
// are all theirs to move, so the anchor is a check run: only the GitHub App that created one can
// change it, nobody can delete it, and `contents: write` cannot create one. Check runs hang off
// a commit, so they all hang off one fixed commit whose sha every run can compute without reading
// anything the attacker controls: a parentless commit with fixed content, author and dates (its
// sha depends on nothing else). If it is not in the repository yet, or was garbage-collected, the
// Git Data API re-creates the very same object. Every append adds one check run, named
// ANCHOR_CHECK_NAME, whose external_id is `seq:hash` of the record it wrote.

export const ANCHOR_CHECK_NAME = 'budget-gate audit anchor';

const PER_PAGE = 100;

type AuditPolicy = OverridesPolicy['audit'];

const ANCHOR_FILE = 'ANCHOR';
const ANCHOR_TEXT = 'budget-gate anchors the override audit log with check runs on this commit.\n';
const IDENTITY = {
  name: 'budget-gate',
  email: 'budget-gate@users.noreply.github.com',
  date: '2000-01-01T00:00:00Z',
};
const EPOCH_SECONDS = Date.parse(IDENTITY.date) / 1000;

const sha1 = (type: string, body: Buffer): Buffer =>
  createHash('sha1')
    .update(Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]))
    .digest();

const anchorMessage = (audit: AuditPolicy) =>
  `budget-gate audit anchor for ${audit.path} on ${audit.branch}\n`;

/** The git object ids of the anchor commit, computed as git computes them. */
export function anchorCommitSha(audit: AuditPolicy): { blob: string; tree: string; commit: string } {
  const blob = sha1('blob', Buffer.from(ANCHOR_TEXT));
  const tree = sha1('tree', Buffer.concat([Buffer.from(`100644 ${ANCHOR_FILE}\0`), blob]));
  const who = `${IDENTITY.name} <${IDENTITY.email}> ${EPOCH_SECONDS} +0000`;
  const commit = sha1(
    'commit',
    Buffer.from(`tree ${tree.toString('hex')}\nauthor ${who}\ncommitter ${who}\n\n${anchorMessage(audit)}`),
  );
  return { blob: blob.toString('hex'), tree: tree.toString('hex'), commit: commit.toString('hex') };
}

/** Creates the anchor commit's objects (idempotent: the same content gives the same ids). */
async function createAnchorCommit(gh: GitHubClient, repo: RepoRef, audit: AuditPolicy): Promise<string> {
  const call = (what: string) => `POST /repos/${repo.owner}/${repo.repo}/git/${what}`;
  const tree = await needing('contents: write', call('trees'), () =>
    gh.request('POST /repos/{owner}/{repo}/git/trees', {
      ...repo,
      tree: [{ path: ANCHOR_FILE, mode: '100644', type: 'blob', content: ANCHOR_TEXT }],
    }),
  );
  const commit = await needing('contents: write', call('commits'), () =>
    gh.request('POST /repos/{owner}/{repo}/git/commits', {
      ...repo,
      message: anchorMessage(audit),
      tree: tree.data.sha,
      parents: [],
      author: IDENTITY,
      committer: IDENTITY,
    }),
  );
  const expected = anchorCommitSha(audit).commit;
  if (commit.data.sha !== expected) {
    // GitHub stored another object (e.g. it signed the commit): the anchor could not be found again.
    throw new Error(
      `GitHub created the audit anchor commit as ${commit.data.sha}, not ${expected}: anchors would not be found again`,
    );
  }
  return commit.data.sha;
}

/** GitHub answers 422 "No commit found for SHA" for a commit that is not in the repository. */
const noCommit = (e: unknown) => statusOf(e) === 422 || statusOf(e) === 404;

export interface ReadAnchors {
  anchors: AuditAnchor[];
  commit: string;
}

/**
 * The anchors on the first and the last page of the listing (100 a page). GitHub does not promise
 * an order, and the newest anchor is on one end or the other; its hash covers every record before
 * it, so the pages between add nothing a rewrite could hide.
 */
export async function readAnchors(gh: GitHubClient, repo: RepoRef, audit: AuditPolicy): Promise<ReadAnchors> {
  const commit = anchorCommitSha(audit).commit;
  const list = (page: number) =>
    needing('checks: read', `GET /repos/${repo.owner}/${repo.repo}/commits/${commit}/check-runs`, () =>
      gh.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
        ...repo,
        ref: commit,
        check_name: ANCHOR_CHECK_NAME,
        filter: 'all',
        per_page: PER_PAGE,
        ...(page > 1 ? { page } : {}),
      }),
    );
  let first: Awaited<ReturnType<typeof list>>;
  try {
    first = await list(1);
  } catch (e) {
    if (!noCommit(e)) throw e;
    // Never anchored, or the commit was garbage-collected: its check runs come back with it.
    await createAnchorCommit(gh, repo, audit);
    first = await list(1);
  }
  const runs = [...first.data.check_runs];
  const lastPage = Math.ceil(first.data.total_count / PER_PAGE);
  if (lastPage > 1) runs.push(...(await list(lastPage)).data.check_runs);
  const anchors: AuditAnchor[] = [];
  for (const run of runs) {
    const a = parseAnchor(run.external_id);
    if (a) anchors.push({ ...a, source: `check run ${run.id} by ${run.app?.slug ?? 'an unknown app'}` });
  }
  return { anchors, commit };
}

export interface WrittenAnchor extends AuditAnchor {
  check_run_id: number;
  html_url: string | null;
}

/** Records `record` as the log's head: one new check run on the anchor commit. */
export async function writeAnchor(
  gh: GitHubClient,
  repo: RepoRef,
  audit: AuditPolicy,
  record: Pick<AuditRecord, 'seq' | 'hash'>,
): Promise<WrittenAnchor> {
  const commit = anchorCommitSha(audit).commit;
  const post = () =>
    needing('checks: write', `POST /repos/${repo.owner}/${repo.repo}/check-runs`, () =>
      gh.request('POST /repos/{owner}/{repo}/check-runs', {
        ...repo,
        name: ANCHOR_CHECK_NAME,
        head_sha: commit,
        status: 'completed',
        conclusion: 'neutral',
        external_id: formatAnchor(record),
        output: {
          title: `audit log head: record #${record.seq}`,
          summary: [
            `The override audit log \`${audit.path}\` on branch \`${audit.branch}\` ends at record #${record.seq}, hash \`${record.hash}\`.`,
            '',
            'Check a copy of the log against it:',
            '',
            `    git show origin/${audit.branch}:${audit.path} | budget-gate audit verify - --head ${record.hash}`,
          ].join('\n'),
        },
      }),
    );
  let res: Awaited<ReturnType<typeof post>>;
  try {
    res = await post();
  } catch (e) {
    if (!noCommit(e)) throw e;
    await createAnchorCommit(gh, repo, audit);
    res = await post();
  }
  return {
    seq: record.seq,
    hash: record.hash,
    check_run_id: Number(res.data.id),
    html_url: res.data.html_url ?? null,
  };
}
