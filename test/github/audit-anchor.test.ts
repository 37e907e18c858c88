import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import examples from '@octokit/webhooks-examples';
import { describe, expect, it } from 'vitest';
import { ANCHOR_CHECK_NAME, ANCHORS_PER_COMMIT, anchorCommitSha } from '../../src/github/audit-anchor.ts';
import { AuditTamperedError, appendAuditEntry } from '../../src/github/audit-log.ts';
import { githubAuditSink } from '../../src/github/audit-sink.ts';
import { GitHubPermissionError } from '../../src/github/errors.ts';
import {
  type AuditEntry,
  type AuditRecord,
  chainRecord,
  serializeRecord,
} from '../../src/policy/overrides/audit-chain.ts';
import { useNock } from '../support/nock.ts';
import { api, b64, overrideEntry, REPO, testOctokit } from './helpers.ts';

// The anchor, attacked the way someone with `contents: write` would: they can rewrite the audit
// branch at will (recompute the chain, drop the newest records, delete the file), but not the check
// runs the gate wrote. Every GitHub reply is shaped as GitHub sends it.

const AUDIT = { branch: 'budget-gate/audit', path: 'audit.jsonl' };
const FILE = '/repos/acme/agents/contents/audit.jsonl';
const ANCHOR = anchorCommitSha(AUDIT).commit;
const RUNS = `/repos/acme/agents/commits/${ANCHOR}/check-runs`;
const noWait = { sleep: async () => {}, anchor: true };

const entry = (pull: number, actor?: string) => overrideEntry(pull, actor, 'hard-pause');
function chain(entries: AuditEntry[]): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const e of entries) out.push(chainRecord(out.at(-1) ?? null, e));
  return out;
}
const text = (rs: AuditRecord[]) => rs.map(serializeRecord).join('');
const file = (t: string, sha: string) => ({
  type: 'file',
  encoding: 'base64',
  size: t.length,
  sha,
  content: b64(t),
});
const genuine = chain([1, 2, 3].map((i) => entry(i)));

/** A real check run (from @octokit/webhooks-examples' check_run.completed), made an anchor. */
const EXAMPLE_RUN = (() => {
  const family = (
    examples as unknown as {
      name: string;
      examples: { action: string; check_run: Record<string, unknown> }[];
    }[]
  ).find((e) => e.name === 'check_run')!;
  return (family.examples.find((e) => e.action === 'completed') ?? family.examples[0]!).check_run;
})();
const run = (id: number, r: AuditRecord) => ({
  ...structuredClone(EXAMPLE_RUN),
  id,
  name: ANCHOR_CHECK_NAME,
  head_sha: ANCHOR,
  external_id: `${r.seq}:${r.hash}`,
  status: 'completed',
  conclusion: 'neutral',
  output: {
    title: `audit log head: record #${r.seq}`,
    summary: '',
    text: null,
    annotations_count: 0,
    annotations_url: '',
  },
  pull_requests: [],
});
const listing = (...runs: ReturnType<typeof run>[]) => ({ total_count: runs.length, check_runs: runs });
const anchorsOf = (rs: AuditRecord[]) => listing(...rs.map((r, i) => run(100 + i, r)).reverse());

useNock('all-called');

describe('the anchor commit', () => {
  it('is the commit git itself makes from the same content, so every run finds the same one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'anchor-'));
    try {
      const git = (args: string[], input?: string) =>
        execFileSync('git', args, {
          cwd: dir,
          input,
          env: {
            ...process.env,
            GIT_AUTHOR_NAME: 'budget-gate',
            GIT_AUTHOR_EMAIL: 'budget-gate@users.noreply.github.com',
            GIT_AUTHOR_DATE: '946684800 +0000',
            GIT_COMMITTER_NAME: 'budget-gate',
            GIT_COMMITTER_EMAIL: 'budget-gate@users.noreply.github.com',
            GIT_COMMITTER_DATE: '946684800 +0000',
          },
        })
          .toString()
          .trim();
      git(['init', '-q']);
      const blob = git(
        ['hash-object', '-w', '--stdin'],
        'budget-gate anchors the override audit log with check runs on this commit.\n',
      );
      const tree = git(['mktree'], `100644 blob ${blob}\tANCHOR\n`);
      const commit = git(
        ['commit-tree', '--no-gpg-sign', tree],
        `budget-gate audit anchor for ${AUDIT.path} on ${AUDIT.branch}\n`,
      );
      expect(anchorCommitSha(AUDIT)).toEqual({ blob, tree, commit });
      // The commit anchors roll over to past 500 records: the same content, its message naming them.
      const second = git(
        ['commit-tree', '--no-gpg-sign', tree],
        `budget-gate audit anchor for ${AUDIT.path} on ${AUDIT.branch}\n\nrecords 501-1000\n`,
      );
      expect(anchorCommitSha(AUDIT, 1)).toEqual({ blob, tree, commit: second });
      expect(anchorCommitSha({ ...AUDIT, path: 'other.jsonl' }).commit).not.toBe(commit);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('appendAuditEntry with anchors', () => {
  it('checks the log against its anchors, appends, and anchors the new head in a check run', async () => {
    const { gh, counter } = testOctokit();
    let anchor: Record<string, unknown> | undefined;
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(text(genuine), 'sha-3'))
      .get(RUNS)
      .query({ check_name: ANCHOR_CHECK_NAME, filter: 'all', per_page: '100' })
      .reply(200, anchorsOf(genuine))
      .put(FILE)
      .reply(200, { content: { sha: 'sha-4' }, commit: { sha: 'commit-4' } })
      .post('/repos/acme/agents/check-runs', (b) => {
        anchor = b;
        return true;
      })
      .reply(201, { ...run(200, genuine[0]!), id: 200 });
    const r = await appendAuditEntry(gh, REPO, AUDIT, entry(4), noWait);
    expect(anchor).toMatchObject({
      name: ANCHOR_CHECK_NAME,
      head_sha: ANCHOR,
      status: 'completed',
      conclusion: 'neutral',
      external_id: `4:${r.record.hash}`,
      output: {
        title: 'audit log head: record #4',
        summary: expect.stringContaining(`--head ${r.record.hash}`),
      },
    });
    expect(r.anchor).toMatchObject({ seq: 4, hash: r.record.hash, check_run_id: 200 });
    expect(counter.total).toBe(4);
  });

  it('a recomputed chain is refused, naming the first record that differs, and nothing is written', async () => {
    const { gh } = testOctokit();
    // Record 2 edited, every hash after it recomputed: the chain alone verifies.
    const forged = chain([entry(1), entry(2, 'mallory'), entry(3)]);
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(text(forged), 'sha-f'))
      .get(RUNS)
      .query(true)
      .reply(200, anchorsOf(genuine));
    const err = await appendAuditEntry(gh, REPO, AUDIT, entry(4), noWait).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditTamperedError);
    expect(err).toMatchObject({ seq: 2 });
    expect((err as Error).message).toMatch(
      /was rewritten: record #2 is not the record that was anchored \(check run 101 by github-actions\).*the first record that differs is #2\. Nothing is recorded/,
    );
  });

  it('a removed last record is refused', async () => {
    const { gh } = testOctokit();
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(text(genuine.slice(0, 2)), 'sha-2'))
      .get(RUNS)
      .query(true)
      .reply(200, anchorsOf(genuine));
    const err = await appendAuditEntry(gh, REPO, AUDIT, entry(4), noWait).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditTamperedError);
    expect((err as Error).message).toContain('the log ends at record #2, but record #3 was anchored');
  });

  it('a deleted log (or branch) is refused instead of starting a new one', async () => {
    const { gh } = testOctokit();
    api()
      .get(FILE)
      .query(true)
      .reply(404, {
        message: 'Not Found',
        documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content',
        status: '404',
      })
      .get(RUNS)
      .query(true)
      .reply(200, anchorsOf(genuine));
    const err = await appendAuditEntry(gh, REPO, AUDIT, entry(4), noWait).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditTamperedError);
    expect((err as Error).message).toContain('the audit log is gone, but records up to #3 were anchored');
  });

  it('the first append creates the anchor commit (GitHub: 422 No commit found) and anchors record 1', async () => {
    const { gh } = testOctokit();
    const ids = anchorCommitSha(AUDIT);
    const noCommit = {
      message: `No commit found for SHA: ${ANCHOR}`,
      documentation_url: 'https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference',
      status: '422',
    };
    let commitBody: Record<string, unknown> | undefined;
    api()
      .get(FILE)
      .query(true)
      .reply(404, { message: 'Not Found' })
      .get(RUNS)
      .query(true)
      .reply(422, noCommit)
      .post('/repos/acme/agents/git/trees', {
        tree: [{ path: 'ANCHOR', mode: '100644', type: 'blob', content: /budget-gate anchors/ }],
      })
      .reply(201, { sha: ids.tree, tree: [{ path: 'ANCHOR', sha: ids.blob }] })
      .post('/repos/acme/agents/git/commits', (b) => {
        commitBody = b;
        return true;
      })
      .reply(201, { sha: ids.commit })
      .get(RUNS)
      .query(true)
      .reply(200, listing())
      // The log's own orphan branch.
      .post('/repos/acme/agents/git/trees')
      .reply(201, { sha: 'tree', tree: [{ path: 'audit.jsonl', sha: 'blob' }] })
      .post('/repos/acme/agents/git/commits')
      .reply(201, { sha: 'orphan' })
      .post('/repos/acme/agents/git/refs')
      .reply(201, { ref: `refs/heads/${AUDIT.branch}` })
      .post('/repos/acme/agents/check-runs', (b) => b.external_id?.startsWith('1:'))
      .reply(201, { id: 7 });
    const r = await appendAuditEntry(gh, REPO, AUDIT, entry(1), noWait);
    expect(commitBody).toEqual({
      message: `budget-gate audit anchor for ${AUDIT.path} on ${AUDIT.branch}\n`,
      tree: ids.tree,
      parents: [],
      author: {
        name: 'budget-gate',
        email: 'budget-gate@users.noreply.github.com',
        date: '2000-01-01T00:00:00Z',
      },
      committer: {
        name: 'budget-gate',
        email: 'budget-gate@users.noreply.github.com',
        date: '2000-01-01T00:00:00Z',
      },
    });
    expect(r).toMatchObject({ created_branch: true, anchor: { seq: 1, check_run_id: 7 } });
  });

  it('a re-run after an anchor that failed finds its record and anchors the head', async () => {
    const { gh } = testOctokit();
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(text(genuine), 'sha-3'))
      .get(RUNS)
      .query(true)
      .reply(200, anchorsOf(genuine.slice(0, 2)))
      .post('/repos/acme/agents/check-runs', (b) => b.external_id === `3:${genuine[2]!.hash}`)
      .reply(201, { id: 9 });
    const r = await appendAuditEntry(gh, REPO, AUDIT, entry(3), {
      ...noWait,
      isDuplicate: (x) => x.pull_request === 3,
    });
    expect(r).toMatchObject({ duplicate: true, anchor: { seq: 3, check_run_id: 9 } });
  });

  it('a token without checks: write: the record is written once, and the error names the permission', async () => {
    const { gh } = testOctokit();
    let puts = 0;
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(text(genuine), 'sha-3'))
      .get(RUNS)
      .query(true)
      .reply(200, anchorsOf(genuine))
      .put(FILE, () => {
        puts++;
        return true;
      })
      .reply(200, { content: { sha: 'sha-4' }, commit: { sha: 'c4' } })
      .post('/repos/acme/agents/check-runs')
      .reply(403, {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest/checks/runs#create-a-check-run',
        status: '403',
      });
    const err = await appendAuditEntry(gh, REPO, AUDIT, entry(4), noWait).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubPermissionError);
    expect(err).toMatchObject({ permission: 'checks: write' });
    expect(puts).toBe(1);
  });
});

describe('many anchors', () => {
  it('past 100 anchors the last page is read too: the newest anchor is found whichever end GitHub lists it at', async () => {
    const { gh } = testOctokit();
    const many = chain(Array.from({ length: 150 }, (_, i) => entry(i + 1)));
    // Oldest first this time: page 1 holds #1–#100, page 2 #101–#150.
    const page = (rs: AuditRecord[]) => ({
      total_count: 150,
      check_runs: rs.map((r) => run(1000 + r.seq, r)),
    });
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(text(many.slice(0, 140)), 'sha-140'))
      .get(RUNS)
      .query({ check_name: ANCHOR_CHECK_NAME, filter: 'all', per_page: '100' })
      .reply(200, page(many.slice(0, 100)))
      .get(RUNS)
      .query({ check_name: ANCHOR_CHECK_NAME, filter: 'all', per_page: '100', page: '2' })
      .reply(200, page(many.slice(100)));
    // The newest ten records were dropped: only the last page's anchors show it.
    const err = await appendAuditEntry(gh, REPO, AUDIT, entry(151), noWait).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditTamperedError);
    expect((err as Error).message).toContain('the log ends at record #140, but record #141 was anchored');
  });
});

// Attempt 12 of issue 20: GitHub keeps at most 1,000 check runs of one name per check suite (one
// per commit and App) and deletes the oldest past that. The anchors roll over to a new fixed commit
// every 500 records; the first commit names the later ones, and a reader reads the newest.
describe('past 1,000 records', () => {
  const ANCHOR_1 = anchorCommitSha(AUDIT, 1).commit;
  const RUNS_1 = `/repos/acme/agents/commits/${ANCHOR_1}/check-runs`;
  const long = chain(Array.from({ length: 600 }, (_, i) => entry(i + 1)));
  const marker = (epoch: number) => ({ ...run(5000 + epoch, long[0]!), external_id: `epoch:${epoch}` });
  const q = (page?: number) => ({
    check_name: ANCHOR_CHECK_NAME,
    filter: 'all',
    per_page: '100',
    ...(page ? { page: String(page) } : {}),
  });

  it('the 501st record rolls to the second commit: the first names it, then the anchor goes there', async () => {
    const { gh } = testOctokit();
    const first500 = long.slice(0, ANCHORS_PER_COMMIT);
    const posted: Record<string, unknown>[] = [];
    const ids = anchorCommitSha(AUDIT, 1);
    let created: Record<string, unknown> | undefined;
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(text(first500), 'sha-500'))
      // 500 anchors on the first commit: pages 1 and 5 are read, the newest is on page 1.
      .get(RUNS)
      .query(q())
      .reply(200, {
        total_count: 500,
        check_runs: first500
          .slice(400)
          .reverse()
          .map((r) => run(r.seq, r)),
      })
      .get(RUNS)
      .query(q(5))
      .reply(200, {
        total_count: 500,
        check_runs: first500
          .slice(0, 100)
          .reverse()
          .map((r) => run(r.seq, r)),
      })
      .put(FILE)
      .reply(200, { content: { sha: 'sha-501' }, commit: { sha: 'c501' } })
      .post('/repos/acme/agents/check-runs', (b) => {
        posted.push(b);
        return b.head_sha === ANCHOR;
      })
      .reply(201, { id: 7001 })
      // The second commit is not in the repository yet: GitHub answers 422, it is created, and the
      // anchor is posted again.
      .post('/repos/acme/agents/check-runs', (b) => b.head_sha === ANCHOR_1)
      .reply(422, { message: `No commit found for SHA: ${ANCHOR_1}`, status: '422' })
      .post('/repos/acme/agents/git/trees')
      .reply(201, { sha: ids.tree, tree: [{ path: 'ANCHOR', sha: ids.blob }] })
      .post('/repos/acme/agents/git/commits', (b) => {
        created = b;
        return true;
      })
      .reply(201, { sha: ids.commit })
      .post('/repos/acme/agents/check-runs', (b) => {
        posted.push(b);
        return b.head_sha === ANCHOR_1;
      })
      .reply(201, { id: 7002, app: { slug: 'budget-gate' } });
    const r = await appendAuditEntry(gh, REPO, AUDIT, entry(501), noWait);
    expect(posted.map((b) => [b.head_sha, b.external_id])).toEqual([
      [ANCHOR, 'epoch:1'],
      [ANCHOR_1, `501:${r.record.hash}`],
    ]);
    expect(created?.message).toBe(
      `budget-gate audit anchor for ${AUDIT.path} on ${AUDIT.branch}\n\nrecords 501-1000\n`,
    );
    expect(r.anchor).toMatchObject({ seq: 501, check_run_id: 7002, app: 'budget-gate' });
  });

  /** The first commit's 500 anchors and its marker (pages 1 and 6), the second's 100 anchors. */
  function anchoredTo600() {
    return api()
      .get(RUNS)
      .query(q())
      .reply(200, { total_count: 501, check_runs: long.slice(0, 100).map((r) => run(r.seq, r)) })
      .get(RUNS)
      .query(q(6))
      .reply(200, { total_count: 501, check_runs: [marker(1)] })
      .get(RUNS_1)
      .query(q())
      .reply(200, {
        total_count: 100,
        check_runs: long
          .slice(500)
          .reverse()
          .map((r) => run(r.seq, r)),
      });
  }

  it('records dropped past 500 are caught through the second commit’s anchors', async () => {
    const { gh } = testOctokit();
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(text(long.slice(0, 550)), 'sha-550'));
    anchoredTo600();
    const err = await appendAuditEntry(gh, REPO, AUDIT, entry(601), noWait).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditTamperedError);
    expect((err as Error).message).toContain('the log ends at record #550, but record #551 was anchored');
  });

  it('a record past 500 rewritten, and the chain recomputed, is caught too', async () => {
    const { gh } = testOctokit();
    const forged = chain(long.map((_, i) => (i === 519 ? entry(520, 'mallory') : entry(i + 1))));
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(text(forged), 'sha-f'));
    anchoredTo600();
    const err = await appendAuditEntry(gh, REPO, AUDIT, entry(601), noWait).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditTamperedError);
    expect(err).toMatchObject({ seq: 520 });
    expect((err as Error).message).toContain('the first record that differs is #520');
  });
});

// Attempt 12 of issue 20: anchors written with the workflow's GITHUB_TOKEN belong to the
// github-actions app, which every workflow in the repository can act as.
describe('who anchors', () => {
  it('warns when the anchor was written as the github-actions app, naming the fix', async () => {
    const { gh } = testOctokit();
    const warnings: string[] = [];
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(text(genuine), 'sha-3'))
      .get(RUNS)
      .query(true)
      .reply(200, anchorsOf(genuine))
      .put(FILE)
      .reply(200, { content: { sha: 'sha-4' }, commit: { sha: 'c4' } })
      .post('/repos/acme/agents/check-runs')
      // As GitHub answers a check run created with a workflow's GITHUB_TOKEN.
      .reply(201, {
        ...run(300, genuine[0]!),
        app: { ...(EXAMPLE_RUN.app as object), id: 15368, slug: 'github-actions' },
      });
    const sink = githubAuditSink(gh, REPO, AUDIT, { sleep: async () => {}, warn: (m) => warnings.push(m) });
    await sink.append(entry(4), () => false);
    expect(warnings).toEqual([
      expect.stringMatching(
        /anchored as the `github-actions` app.*any workflow in this repository.*actions\/create-github-app-token/,
      ),
    ]);
  });

  it('says nothing when the App anchored', async () => {
    const { gh } = testOctokit();
    const warnings: string[] = [];
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(text(genuine), 'sha-3'))
      .get(RUNS)
      .query(true)
      .reply(200, anchorsOf(genuine))
      .put(FILE)
      .reply(200, { content: { sha: 'sha-4' }, commit: { sha: 'c4' } })
      .post('/repos/acme/agents/check-runs')
      .reply(201, { ...run(301, genuine[0]!), app: { id: 1, slug: 'budget-gate' } });
    const sink = githubAuditSink(gh, REPO, AUDIT, { sleep: async () => {}, warn: (m) => warnings.push(m) });
    await sink.append(entry(4), () => false);
    expect(warnings).toEqual([]);
  });
});
