import { createHash } from 'node:crypto';
import { type AuditAnchor, formatAnchor, parseAnchor } from '../policy/overrides/audit-anchor.ts';
import type { AuditRecord } from '../policy/overrides/audit-chain.ts';
import type { OverridesPolicy } from '../policy/spec/schema.ts';
import { statusOf } from './errors.ts';
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
//
// GitHub keeps at most 1,000 check runs of one name in a check suite (one suite per commit and App)
// and deletes the oldest past that, so the anchors roll over: records 1–500 are anchored on the
// first commit, 501–1000 on a second fixed commit (the same content, its message naming the
// range), and so on. Rolling to a new commit first writes a marker `epoch:<n>` on the first
// commit, whose suite then holds at most 500 anchors and one marker per 500 records after; a reader
// reads the first commit and, when it names later ones, the newest that holds anchors.

export const ANCHOR_CHECK_NAME = 'budget-gate audit anchor';
/** Records anchored on one commit: half of GitHub's 1,000 same-name check runs per check suite. */
export const ANCHORS_PER_COMMIT = 500;
/** Which anchor commit (0, 1, …) anchors record `seq`. */
const anchorEpoch = (seq: number): number => Math.floor((seq - 1) / ANCHORS_PER_COMMIT);
const EPOCH_ID = /^epoch:([1-9]\d{0,9})$/;

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

// The first commit's message is the one anchors were always written on: existing anchors stay found.
const anchorMessage = (audit: AuditPolicy, epoch: number) =>
  `budget-gate audit anchor for ${audit.path} on ${audit.branch}\n` +
  (epoch === 0 ? '' : `\nrecords ${epoch * ANCHORS_PER_COMMIT + 1}-${(epoch + 1) * ANCHORS_PER_COMMIT}\n`);

/** The git object ids of an anchor commit (the first by default), computed as git computes them. */
export function anchorCommitSha(
  audit: AuditPolicy,
  epoch = 0,
): { blob: string; tree: string; commit: string } {
  const blob = sha1('blob', Buffer.from(ANCHOR_TEXT));
  const tree = sha1('tree', Buffer.concat([Buffer.from(`100644 ${ANCHOR_FILE}\0`), blob]));
  const who = `${IDENTITY.name} <${IDENTITY.email}> ${EPOCH_SECONDS} +0000`;
  const commit = sha1(
    'commit',
    Buffer.from(
      `tree ${tree.toString('hex')}\nauthor ${who}\ncommitter ${who}\n\n${anchorMessage(audit, epoch)}`,
    ),
  );
  return { blob: blob.toString('hex'), tree: tree.toString('hex'), commit: commit.toString('hex') };
}

/** Creates the anchor commit's objects (idempotent: the same content gives the same ids). */
async function createAnchorCommit(
  gh: GitHubClient,
  repo: RepoRef,
  audit: AuditPolicy,
  epoch: number,
): Promise<string> {
  const tree = await gh.request('POST /repos/{owner}/{repo}/git/trees', {
    ...repo,
    tree: [{ path: ANCHOR_FILE, mode: '100644', type: 'blob', content: ANCHOR_TEXT }],
  });
  const commit = await gh.request('POST /repos/{owner}/{repo}/git/commits', {
    ...repo,
    message: anchorMessage(audit, epoch),
    tree: tree.data.sha,
    parents: [],
    author: IDENTITY,
    committer: IDENTITY,
  });
  const expected = anchorCommitSha(audit, epoch).commit;
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
  /** The first anchor commit. */
  commit: string;
  /** The newest anchor commit the first one names (0: none after it yet). */
  epoch: number;
}

type CheckRunPage = {
  total_count: number;
  check_runs: { id: number | bigint; external_id: string | null; app?: { slug?: string } | null }[];
};

/**
 * The check runs named ANCHOR_CHECK_NAME on the first and the last page of one anchor commit's
 * listing (100 a page). GitHub does not promise an order, and the newest run is on one end or the
 * other; an anchor's hash covers every record before it, so the pages between add nothing a
 * rewrite could hide. Null when the commit is not in the repository.
 */
async function listEnds(
  gh: GitHubClient,
  repo: RepoRef,
  commit: string,
): Promise<CheckRunPage['check_runs'] | null> {
  const list = async (page: number): Promise<CheckRunPage> =>
    (
      await gh.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
        ...repo,
        ref: commit,
        check_name: ANCHOR_CHECK_NAME,
        filter: 'all',
        per_page: PER_PAGE,
        ...(page > 1 ? { page } : {}),
      })
    ).data;
  let first: CheckRunPage;
  try {
    first = await list(1);
  } catch (e) {
    if (noCommit(e)) return null;
    throw e;
  }
  const runs = [...first.check_runs];
  const lastPage = Math.ceil(first.total_count / PER_PAGE);
  if (lastPage > 1) runs.push(...(await list(lastPage)).check_runs);
  return runs;
}

const anchorsOf = (runs: CheckRunPage['check_runs']): AuditAnchor[] =>
  runs.flatMap((run) => {
    const a = parseAnchor(run.external_id);
    return a ? [{ ...a, source: `check run ${run.id} by ${run.app?.slug ?? 'an unknown app'}` }] : [];
  });

/**
 * Every anchor that matters: those on the first commit, and those on the newest later commit the
 * first one names that holds any (an anchor covers every record before it).
 */
export async function readAnchors(gh: GitHubClient, repo: RepoRef, audit: AuditPolicy): Promise<ReadAnchors> {
  const commit = anchorCommitSha(audit).commit;
  let runs = await listEnds(gh, repo, commit);
  if (runs === null) {
    // Never anchored, or the commit was garbage-collected: its check runs come back with it.
    await createAnchorCommit(gh, repo, audit, 0);
    runs = (await listEnds(gh, repo, commit)) ?? [];
  }
  const anchors = anchorsOf(runs);
  const epoch = Math.max(0, ...runs.map((r) => Number(EPOCH_ID.exec(r.external_id ?? '')?.[1] ?? 0)));
  for (let e = epoch; e > 0; e--) {
    const later = await listEnds(gh, repo, anchorCommitSha(audit, e).commit);
    const found = later ? anchorsOf(later) : [];
    if (found.length > 0) {
      anchors.push(...found);
      break;
    }
  }
  return { anchors, commit, epoch };
}

export interface WrittenAnchor extends AuditAnchor {
  check_run_id: number;
  html_url: string | null;
  /** The App GitHub says created the check run: only it can change it. */
  app: string | null;
}

async function postCheckRun(
  gh: GitHubClient,
  repo: RepoRef,
  audit: AuditPolicy,
  epoch: number,
  run: { external_id: string; title: string; summary: string },
) {
  const post = () =>
    gh.request('POST /repos/{owner}/{repo}/check-runs', {
      ...repo,
      name: ANCHOR_CHECK_NAME,
      head_sha: anchorCommitSha(audit, epoch).commit,
      status: 'completed',
      conclusion: 'neutral',
      external_id: run.external_id,
      output: { title: run.title, summary: run.summary },
    });
  try {
    return await post();
  } catch (e) {
    if (!noCommit(e)) throw e;
    await createAnchorCommit(gh, repo, audit, epoch);
    return await post();
  }
}

/**
 * Records `record` as the log's head: one new check run on its anchor commit. `read` is what the
 * append read before writing: when the record is the first on a commit the first one does not name
 * yet, the marker naming it is written first, so a reader never misses the anchors on it.
 */
export async function writeAnchor(
  gh: GitHubClient,
  repo: RepoRef,
  audit: AuditPolicy,
  record: Pick<AuditRecord, 'seq' | 'hash'>,
  read: Pick<ReadAnchors, 'epoch'> | null = null,
): Promise<WrittenAnchor> {
  const epoch = anchorEpoch(record.seq);
  if (epoch > 0 && epoch > (read?.epoch ?? 0)) {
    await postCheckRun(gh, repo, audit, 0, {
      external_id: `epoch:${epoch}`,
      title: `audit log anchors continue on commit ${anchorCommitSha(audit, epoch).commit.slice(0, 7)}`,
      summary: `Records #${epoch * ANCHORS_PER_COMMIT + 1} onwards of \`${audit.path}\` on branch \`${audit.branch}\` are anchored on commit ${anchorCommitSha(audit, epoch).commit} (GitHub keeps at most 1,000 check runs of one name per commit and App).`,
    });
  }
  const res = await postCheckRun(gh, repo, audit, epoch, {
    external_id: formatAnchor(record),
    title: `audit log head: record #${record.seq}`,
    summary: [
      `The override audit log \`${audit.path}\` on branch \`${audit.branch}\` ends at record #${record.seq}, hash \`${record.hash}\`.`,
      '',
      'Check a copy of the log against it:',
      '',
      `    git show origin/${audit.branch}:${audit.path} | budget-gate audit verify - --head ${record.hash}`,
    ].join('\n'),
  });
  return {
    seq: record.seq,
    hash: record.hash,
    check_run_id: Number(res.data.id),
    html_url: res.data.html_url ?? null,
    app: res.data.app?.slug ?? null,
  };
}
