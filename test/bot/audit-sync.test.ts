import { ProbotOctokit } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditSync } from '../../src/bot/audit-sync.ts';
import { onPush } from '../../src/bot/handlers/service-events.ts';
import { collectingLog } from '../../src/bot/log.ts';
import { type AuditRecord, chainRecord, serializeRecord } from '../../src/policy/overrides/audit-chain.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { POLICY_TEXT } from '../support/dashboard-sql.ts';
import { type FakeGitHub, startGitHub } from '../support/github-server.ts';

// The audit log read back from its branch into the store: in full the first time, then only when
// a push to the branch made it stale or the hour is up, and then with the ETag (an unchanged log is
// a 304); a log rewritten since it was read is reported, and what was read first is kept.

const T = Date.parse('2026-11-20T09:00:00Z');
const MIN = 60_000;
const policy = loadPolicy(POLICY_TEXT, '.github/error-budget.yml').policy;
const repo = { owner: 'acme', repo: 'agents' };

function entry(seq: number, actor: string) {
  return {
    kind: 'override-applied' as const,
    repo: 'acme/agents',
    pull_request: 40 + seq,
    sha: String(seq).repeat(40).slice(0, 40),
    label: 'override:slo-wrong',
    reason: 'slo-wrong',
    actor,
    author: 'dev-1',
    at: new Date(T - (10 - seq) * MIN).toISOString(),
    state: 'soft-pause' as const,
    message: 'overridden',
    slos: [],
    source: 'action' as const,
  };
}
const chain = (actors: string[]) =>
  actors.reduce<AuditRecord[]>((out, a, i) => [...out, chainRecord(out.at(-1) ?? null, entry(i + 1, a))], []);

let gh: FakeGitHub;
let log = chain(['sre-lead']);
let etag = 'W/"1"';
beforeAll(async () => {
  gh = await startGitHub();
  gh.route('GET', '/repos/acme/agents/contents/audit.jsonl', (req) => {
    if (req.headers['if-none-match'] === etag) return [304, ''];
    const text = log.map(serializeRecord).join('');
    return [
      200,
      {
        type: 'file',
        encoding: 'base64',
        content: Buffer.from(text).toString('base64'),
        sha: 'a'.repeat(40),
        size: text.length,
      },
      { etag },
    ];
  });
});
afterAll(async () => {
  await gh?.close();
});

const client = () =>
  new ProbotOctokit({
    auth: { token: 'ghs_test' },
    baseUrl: gh.url,
    retry: { enabled: false },
    throttle: { enabled: false },
  });
const reads = () => gh.requests.filter((r) => r.path === '/repos/acme/agents/contents/audit.jsonl');

async function withPolicy(): Promise<SqliteWatchStore> {
  const store = new SqliteWatchStore(':memory:');
  await store.service.sync(
    7,
    [{ owner: 'acme', repo: 'agents', installation_id: 7, default_branch: 'main' }],
    T,
  );
  await store.service.claim('a', T, MIN, 1);
  await store.service.savePolicy('acme/agents', 'a', T, { text: POLICY_TEXT, etag: null });
  return store;
}

const NOTHING = { looked: 1, read: 0, unchanged: 0, none: 0, failed: 0, added: 0 };

describe('the audit log kept in the store', () => {
  it('is read once, then only when pushed to or after the hour, conditionally', async () => {
    const store = await withPolicy();
    const sync = new AuditSync({ records: store.records, log: collectingLog() });
    const round = async (at: number) => sync.round(await store.service.list(), async () => client(), at);
    expect(await round(T)).toEqual({ ...NOTHING, read: 1, added: 1 });
    expect(reads()).toHaveLength(1);
    expect(reads()[0]!.query).toContain('ref=budget-gate%2Faudit');
    // Within the hour and no push: nothing asked.
    expect(await round(T + 30 * MIN)).toEqual(NOTHING);

    // A push to another branch changes nothing; to the audit branch, the log is read again, with the ETag.
    const push = (ref: string) =>
      onPush(
        {
          octokit: client(),
          payload: { ref, repository: { name: 'agents', owner: { login: 'acme' }, default_branch: 'main' } },
          log: collectingLog(),
        },
        {
          store,
          source: null as never,
          clock: () => T,
          policyPath: '.github/error-budget.yml',
          records: store.records,
        },
      );
    await push('refs/heads/feature');
    expect(await round(T + 31 * MIN)).toEqual(NOTHING);
    await push('refs/heads/budget-gate/audit');
    expect(await round(T + 32 * MIN)).toEqual({ ...NOTHING, unchanged: 1 });
    expect(reads().at(-1)!.headers['if-none-match']).toBe('W/"1"');

    // A new record appended: read in full, the new record added.
    log = chain(['sre-lead', 'alice']);
    etag = 'W/"2"';
    expect(await round(T + 92 * MIN)).toEqual({ ...NOTHING, read: 1, added: 1 });
    expect((await store.records.auditNewest('acme/agents', 10)).map((r) => r.actor)).toEqual([
      'alice',
      'sre-lead',
    ]);
    const between = await store.records.auditBetween('acme/agents', 'override-applied', T - 9 * MIN, T);
    expect(between.map((r) => r.seq)).toEqual([1, 2]);

    // Rewritten from the start (a consistent chain, but not the one read): reported, the first kept.
    log = chain(['mallory', 'alice']);
    etag = 'W/"3"';
    const r = await sync.sync(client(), repo, policy, T + 100 * MIN);
    expect(r.read).toBe('read');
    expect(r.error).toMatch(/^records 1, 2 differ from what budget-gate read before: the log was rewritten/);
    expect((await store.records.auditLog('acme/agents'))!.error).toBe(r.error);
    expect((await store.records.auditNewest('acme/agents', 10)).map((x) => x.actor)).toEqual([
      'alice',
      'sre-lead',
    ]);
    await store.close();
  });

  it('is read by one replica when two look at once', async () => {
    const store = await withPolicy();
    const [a, b] = ['a', 'b'].map(() => new AuditSync({ records: store.records, log: collectingLog() }));
    const before = reads().length;
    const repos = await store.service.list();
    const [ra, rb] = await Promise.all([
      a!.round(repos, async () => client(), T),
      b!.round(repos, async () => client(), T),
    ]);
    expect(ra.read + rb.read).toBe(1);
    expect(reads().length - before).toBe(1);
    await store.close();
  });
});
