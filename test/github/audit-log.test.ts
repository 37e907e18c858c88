import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLogError, appendAuditEntry } from '../../src/github/audit-log.ts';
import { GitHubPermissionError } from '../../src/github/errors.ts';
import {
  type AuditEntry,
  chainRecord,
  parseAuditLog,
  serializeRecord,
  verifyChain,
} from '../../src/policy/audit.ts';
import { api, assertAllCalled, b64, REPO, setupNock, testOctokit, unb64 } from './helpers.ts';

// The audit log's append on the exact Contents/Git Data endpoints: what is sent, with which sha,
// and what happens when another run (or a missing permission, or a tampered log) gets in the way.

const AUDIT = { branch: 'budget-gate/audit', path: 'audit.jsonl' };
const FILE = '/repos/acme/agents/contents/audit.jsonl';
const noWait = { sleep: async () => {} };

const entry = (pull: number, actor = 'sre-lead'): AuditEntry => ({
  kind: 'override-applied',
  repo: 'acme/agents',
  pull_request: pull,
  sha: 'a'.repeat(40),
  label: 'override:slo-wrong',
  reason: 'slo-wrong',
  actor,
  author: 'dev',
  at: '2026-11-20T09:00:00.000Z',
  state: 'soft-pause',
  message: `override on #${pull}`,
  source: 'action',
});
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

beforeEach(setupNock);
afterEach(assertAllCalled);

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
  });

  it('reads a log over 1 MB through the blob API', async () => {
    const { gh } = testOctokit();
    const text = logOf(1);
    api()
      .get(FILE)
      .query(true)
      .reply(200, { type: 'file', sha: 'big', size: 2_000_000, content: '' })
      .get('/repos/acme/agents/git/blobs/big')
      .reply(200, { content: b64(text), encoding: 'base64' })
      .put(FILE, (b) => b.sha === 'big')
      .reply(200, { content: { sha: 'big-2' }, commit: { sha: 'c' } });
    const r = await appendAuditEntry(gh, REPO, AUDIT, entry(2), noWait);
    expect(r.record.seq).toBe(2);
  });
});
