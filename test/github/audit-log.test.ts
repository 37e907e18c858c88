import { describe, expect, it } from 'vitest';
import { AuditLogError, appendAuditEntry } from '../../src/github/audit-log.ts';
import { GitHubPermissionError, GitHubProtectedBranchError, statusOf } from '../../src/github/errors.ts';
import {
  chainRecord,
  parseAuditLog,
  serializeRecord,
  verifyChain,
} from '../../src/policy/overrides/audit-chain.ts';
import { useNock } from '../support/nock.ts';
import { api, auditAnchors, b64, overrideEntry, REPO, testOctokit, unb64 } from './helpers.ts';

// The audit log's append on the exact Contents/Git Data endpoints: what is sent, with which sha,
// and what happens when another run (or a missing permission, or a tampered log) gets in the way.

const AUDIT = { branch: 'budget-gate/audit', path: 'audit.jsonl' };
const FILE = '/repos/acme/agents/contents/audit.jsonl';
const noWait = { sleep: async () => {} };

const entry = overrideEntry;
const logOf = (...pulls: number[]) => {
  let prev = null;
  let text = '';
  for (const p of pulls) {
    prev = chainRecord(prev, entry(p));
    text += serializeRecord(prev);
  }
  return text;
};
const file = (text: string, sha: string) => ({ type: 'file', sha, size: text.length, content: b64(text) });

useNock('all-called');

describe('appendAuditEntry', () => {
  it('appends to the existing log with the sha it read, chained to the last record', async () => {
    const { gh, counter } = testOctokit();
    let put: { sha: string; branch: string; content: string; message: string } | undefined;
    api()
      .get(FILE)
      .query({ ref: AUDIT.branch })
      .reply(200, file(logOf(1, 2), 'sha-2'))
      .put(FILE, (b) => {
        put = b;
        return true;
      })
      .reply(200, { content: { sha: 'sha-3' }, commit: { sha: 'commit-3' } });
    const r = await appendAuditEntry(gh, REPO, AUDIT, entry(3), noWait);
    expect(put).toMatchObject({ sha: 'sha-2', branch: AUDIT.branch, message: expect.stringContaining('#3') });
    const text = unb64(put!.content);
    expect(text.startsWith(logOf(1, 2))).toBe(true);
    expect(verifyChain(text)).toMatchObject({ ok: true, count: 3 });
    expect(parseAuditLog(text)[2]).toMatchObject({ seq: 3, pull_request: 3 });
    expect(r).toMatchObject({ file_sha: 'sha-3', commit_sha: 'commit-3', attempts: 1, duplicate: false });
    expect(counter.total).toBe(2);
  });

  it('another run created the branch first (422 on the ref): re-read and PUT onto its record', async () => {
    const { gh } = testOctokit();
    let put: { sha: string; content: string } | undefined;
    api()
      .get(FILE)
      .query(true)
      .reply(404, { message: 'Not Found' })
      .post('/repos/acme/agents/git/trees')
      .reply(201, { sha: 'tree', tree: [{ path: 'audit.jsonl', sha: 'blob' }] })
      .post('/repos/acme/agents/git/commits')
      .reply(201, { sha: 'orphan' })
      .post('/repos/acme/agents/git/refs', { ref: `refs/heads/${AUDIT.branch}`, sha: 'orphan' })
      .reply(422, { message: 'Reference already exists' })
      .get(FILE)
      .query(true)
      .reply(200, file(logOf(7), 'theirs'))
      .put(FILE, (b) => {
        put = b;
        return true;
      })
      .reply(200, { content: { sha: 'ours' }, commit: { sha: 'c' } });
    const r = await appendAuditEntry(gh, REPO, AUDIT, entry(8), noWait);
    expect(put?.sha).toBe('theirs');
    expect(parseAuditLog(unb64(put!.content)).map((x) => x.pull_request)).toEqual([7, 8]);
    expect(r).toMatchObject({ attempts: 2, created_branch: false });
  });

  it('with anchor: reads the anchors, appends, anchors the new head (the auditAnchors test helper)', async () => {
    const { gh, counter } = testOctokit();
    const scope = api()
      .get(FILE)
      .query(true)
      .reply(200, file(logOf(1, 2), 'sha-2'))
      .put(FILE)
      .reply(200, { content: { sha: 'sha-3' }, commit: { sha: 'commit-3' } });
    auditAnchors(scope, '/repos/acme/agents', parseAuditLog(logOf(1, 2)));
    const r = await appendAuditEntry(gh, REPO, AUDIT, entry(3), { ...noWait, anchor: true });
    expect(r.anchor).toMatchObject({ seq: 3, hash: r.record.hash, check_run_id: 9999 });
    expect(counter.total).toBe(4);
  });

  it('gives up after maxAttempts conflicts and says why', async () => {
    const { gh } = testOctokit();
    for (let i = 0; i < 2; i++) {
      api()
        .get(FILE)
        .query(true)
        .reply(200, file(logOf(1), `sha-${i}`))
        .put(FILE)
        .reply(409, {});
    }
    const err = await appendAuditEntry(gh, REPO, AUDIT, entry(2), { ...noWait, maxAttempts: 2 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuditLogError);
    expect((err as Error).message).toContain('2 attempts conflicted with concurrent writes');
  });

  it('a re-run finds its record and writes nothing', async () => {
    const { gh, counter } = testOctokit();
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(logOf(1, 2), 'sha-2'));
    const r = await appendAuditEntry(gh, REPO, AUDIT, entry(2), {
      ...noWait,
      isDuplicate: (x) => x.pull_request === 2,
    });
    expect(r).toMatchObject({ duplicate: true, record: { seq: 2 }, file_sha: 'sha-2' });
    expect(counter.total).toBe(1);
  });

  it('refuses to append to a log whose chain is broken', async () => {
    const { gh } = testOctokit();
    const tampered = logOf(1, 2).replace('override on #1', 'override on #9');
    api().get(FILE).query(true).reply(200, file(tampered, 'sha-x'));
    const err = await appendAuditEntry(gh, REPO, AUDIT, entry(3), noWait).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditLogError);
    expect((err as Error).message).toMatch(/does not verify .*budget-gate audit verify/);
  });

  it('a ruleset refusing the write (409) is not mistaken for a concurrent write: no retry, and it says so', async () => {
    const { gh, counter } = testOctokit();
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(logOf(1), 'sha-1'))
      .put(FILE)
      .reply(409, {
        message: 'Repository rule violations found\n\nCannot update this protected ref.\n\n',
        documentation_url: 'https://docs.github.com/rest/repos/contents#create-or-update-file-contents',
        status: '409',
      });
    const err = await appendAuditEntry(gh, REPO, AUDIT, entry(2), noWait).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubProtectedBranchError);
    expect(statusOf(err)).toBe(409);
    expect(counter.total).toBe(2);
  });

  it('a token without contents: write gets an error naming it', async () => {
    const { gh } = testOctokit();
    api()
      .get(FILE)
      .query(true)
      .reply(200, file(logOf(1), 'sha-1'))
      .put(FILE)
      .reply(403, { message: 'Resource not accessible by integration' });
    const err = await appendAuditEntry(gh, REPO, AUDIT, entry(2), noWait).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubPermissionError);
    expect(err).toMatchObject({ permission: 'contents: write', status: 403 });
    // Callers that tell permanent refusals from transient ones still see GitHub's status.
    expect(statusOf(err)).toBe(403);
  });
});

// GitHub's replies for a log over 1 MB, as GitHub sends them: the default media type is refused
// with 403 `too_large`; the `object` media type answers with empty content and encoding "none";
// the blob API serves base64 wrapped at 60 characters.
describe('logs of any size', () => {
  const TOO_LARGE = {
    message:
      'This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the API, but you can use the Git Data API to request blobs up to 100 MB in size.',
    errors: [{ resource: 'Blob', field: 'data', code: 'too_large' }],
    documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content',
  };
  const wrap60 = (s: string) => s.replace(/.{60}/g, '$&\n');
  function bigLog(bytes: number): string {
    let prev = null;
    const parts: string[] = [];
    let size = 0;
    for (let i = 1; size < bytes; i++) {
      prev = chainRecord(prev, { ...entry(i), message: `override on #${i}: ${'x'.repeat(400)}` });
      const line = serializeRecord(prev);
      parts.push(line);
      size += Buffer.byteLength(line);
    }
    return parts.join('');
  }
  /** The Contents API as GitHub answers it for a file over 1 MB, by media type. */
  function githubServesLargeFile(text: string, sha: string) {
    const size = Buffer.byteLength(text);
    api()
      .get(FILE)
      .query({ ref: AUDIT.branch })
      .matchHeader('accept', (v) => !v?.includes('object'))
      .optionally()
      .reply(403, TOO_LARGE)
      .get(FILE)
      .query({ ref: AUDIT.branch })
      .matchHeader('accept', 'application/vnd.github.object+json')
      .reply(200, {
        type: 'file',
        encoding: 'none',
        size,
        name: 'audit.jsonl',
        path: 'audit.jsonl',
        content: '',
        sha,
        url: `https://api.github.com${FILE}?ref=${AUDIT.branch}`,
        git_url: `https://api.github.com/repos/acme/agents/git/blobs/${sha}`,
        html_url: `https://github.com/acme/agents/blob/${AUDIT.branch}/audit.jsonl`,
        download_url: `https://raw.githubusercontent.com/acme/agents/${AUDIT.branch}/audit.jsonl`,
        _links: {},
      })
      .get(`/repos/acme/agents/git/blobs/${sha}`)
      .reply(200, {
        sha,
        node_id: 'B_kwDOAbc',
        size,
        url: `https://api.github.com/repos/acme/agents/git/blobs/${sha}`,
        content: wrap60(b64(text)),
        encoding: 'base64',
      });
  }

  it('appends to a 2 MB log: read through the object media type and the blob API, written whole', async () => {
    const { gh } = testOctokit();
    const text = bigLog(2 * 1024 * 1024);
    const n = parseAuditLog(text).length;
    githubServesLargeFile(text, 'b'.repeat(40));
    let put: { sha: string; content: string } | undefined;
    api()
      .put(FILE, (b) => {
        put = b;
        return true;
      })
      .reply(200, { content: { sha: 'c'.repeat(40), size: 2_100_000 }, commit: { sha: 'd'.repeat(40) } });
    const r = await appendAuditEntry(gh, REPO, AUDIT, entry(n + 1), noWait);
    expect(r.record.seq).toBe(n + 1);
    expect(put?.sha).toBe('b'.repeat(40));
    const written = unb64(put!.content);
    expect(written.startsWith(text)).toBe(true);
    expect(Buffer.byteLength(written)).toBeGreaterThan(2 * 1024 * 1024);
    expect(verifyChain(written)).toMatchObject({ ok: true, count: n + 1 });
  });

  it('the 403 too_large is not reported as a missing permission', async () => {
    const { gh } = testOctokit();
    api().get(FILE).query(true).reply(403, TOO_LARGE);
    const err = await gh
      .request('GET /repos/{owner}/{repo}/contents/{path}', { ...REPO, path: 'audit.jsonl' })
      .catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(GitHubPermissionError);
    expect((err as Error).message).toMatch(/over 1 MB.*This is not a missing permission/);
  });
});
