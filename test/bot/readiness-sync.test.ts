import { mkdtempSync, readdirSync, readFileSync, rmSync, type Stats, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/core';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPush } from '../../src/bot/handlers/service-events.ts';
import { collectingLog } from '../../src/bot/log.ts';
import { ReadinessSync } from '../../src/bot/readiness-sync.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { cli } from '../support/cli.ts';
import { useNock } from '../support/nock.ts';

// The bot works out each repository's readiness verdict from its default branch, read through the
// REST API (contents at the head commit: the policy there, the runbooks its alerts name, the drills and postmortems
// folders), and stores it: the verdict is the one `budget-gate readiness` gives on the same files
// (this repository's examples/), an unchanged branch costs one conditional request (a 304), a push
// to the default branch makes it look again, and a refused read keeps the verdict stored before.
// (The on-call page showing it: test/server/readiness-store.test.ts.)

const T = Date.parse('2026-11-20T09:00:00Z');
const POLICY_PATH = 'examples/error-budget.yml';
const POLICY_TEXT = readFileSync(POLICY_PATH, 'utf8');
const SHA = 'a'.repeat(40);
const API = 'https://api.github.com';
const BASE = '/repos/acme/agents';
const MEMBERS = ['alice', 'bob', 'carol'];

useNock('all-called');

/** GitHub's contents API for a file or a folder of this checkout, as GitHub shapes it. */
function contents(path: string): [number, unknown] {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }];
  }
  const entry = (p: string, s: Stats) => ({
    name: p.split('/').at(-1),
    path: p,
    sha: 'b'.repeat(40),
    size: s.isFile() ? s.size : 0,
    type: s.isFile() ? 'file' : 'dir',
    url: `${API}${BASE}/contents/${p}?ref=${SHA}`,
  });
  if (st.isDirectory())
    return [200, readdirSync(path).map((n) => entry(`${path}/${n}`, statSync(join(path, n))))];
  const b64 = readFileSync(path).toString('base64');
  return [200, { ...entry(path, st), encoding: 'base64', content: b64.replace(/(.{60})/g, '$1\n') }];
}

/** The files readiness reads, answered from examples/; returns the paths asked for. */
function answerFiles(): string[] {
  const asked: string[] = [];
  nock(API)
    .persist()
    .get((uri) => uri.startsWith(`${BASE}/contents/`))
    .query(true)
    .reply((uri: string) => {
      // nock hands the path, or (over fetch) the Request itself.
      const u = new URL(typeof uri === 'string' ? uri : (uri as unknown as Request).url, API);
      expect(u.searchParams.get('ref')).toBe(SHA);
      const path = decodeURIComponent(u.pathname.slice(`${BASE}/contents/`.length));
      asked.push(path);
      return contents(path);
    });
  return asked;
}

function answerMembers(times: number): void {
  for (const login of MEMBERS) {
    nock(API).get(`/users/${login}`).times(times).reply(200, { login, id: 1, type: 'User' });
    nock(API)
      .get(`/orgs/acme/teams/sre/memberships/${login}`)
      .times(times)
      .reply(200, { state: 'active', role: 'member' });
  }
}

const gh = () => new Octokit({ auth: 'installation-token' });

describe('readiness worked out by the bot from the default branch', () => {
  let dir: string;
  let store: SqliteWatchStore;
  let sync: ReadinessSync;
  const repo = {
    full_name: 'acme/agents',
    owner: 'acme',
    repo: 'agents',
    installation_id: 7,
    default_branch: 'main',
    active: true,
    policy_status: 'ok' as const,
    policy_text: POLICY_TEXT,
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'readiness-bot-'));
    store = new SqliteWatchStore(join(dir, 'bot.db'));
    await store.service.sync(7, [{ ...repo }], T - 3_600_000);
    for (const r of await store.service.claim('t', T, 60_000, 1)) {
      await store.service.savePolicy(r.full_name, 't', T, { text: POLICY_TEXT, etag: 'W/"p"' });
      await store.service.complete(r.full_name, 't', T, T + 60_000, null, 'ship');
    }
    sync = new ReadinessSync({
      readiness: store.readiness,
      incidents: store.incidents,
      log: collectingLog(),
      policyPath: POLICY_PATH,
    });
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads only what readiness needs, and stores the verdict `budget-gate readiness` gives', async () => {
    nock(API)
      .get(`${BASE}/branches/main`)
      .reply(200, { name: 'main', commit: { sha: SHA } }, { etag: 'W/"h1"' });
    const asked = answerFiles();
    answerMembers(2);
    const r = await sync.round([repo], async () => gh(), T);
    expect(r).toEqual({ looked: 1, computed: 1, unchanged: 0, failed: 0, requests: 1 + 14 + 6 });
    expect(asked).toEqual([
      POLICY_PATH,
      'examples/runbooks/fast-burn.md',
      'examples/runbooks/steady-burn.md',
      'examples/runbooks/slow-burn.md',
      'examples/postmortems/TEMPLATE.md',
      'examples/drills',
      ...readdirSync('examples/drills')
        .sort()
        .map((f) => `examples/drills/${f}`),
      'examples/postmortems',
      'examples/postmortems/2026-10-14-refund-prompt.md',
    ]);
    const row = await store.readiness.get('acme/agents');
    expect(row).toMatchObject({ commit_sha: SHA, computed_at: T, head_etag: 'W/"h1"', error: null });

    const out = await cli(
      [
        'readiness',
        '--policy',
        POLICY_PATH,
        '--root',
        '.',
        '--repo',
        'acme/agents',
        '--store',
        `sqlite:${join(dir, 'bot.db')}`,
        '--json',
      ],
      { env: { GITHUB_TOKEN: 'cli-token' }, now: T },
    );
    expect(out.stderr).toBe('');
    expect(JSON.parse(row!.verdict!)).toEqual(JSON.parse(out.stdout));
    expect(JSON.parse(row!.verdict!).gates.map((g: { id: string }) => g.id)).toEqual([
      'slos',
      'policy',
      'oncall',
      'runbooks',
      'postmortems',
    ]);
  });

  it('asks nothing within the hour, one free 304 after it, and looks again after a push', async () => {
    expect(await sync.round([repo], async () => gh(), T + 60_000)).toMatchObject({
      looked: 1,
      computed: 0,
      unchanged: 0,
    });
    nock(API).get(`${BASE}/branches/main`).matchHeader('if-none-match', 'W/"h1"').reply(304);
    expect(await sync.round([repo], async () => gh(), T + 3_600_000)).toMatchObject({
      unchanged: 1,
      requests: 1,
    });
    await onPush(
      {
        payload: {
          ref: 'refs/heads/main',
          repository: { name: 'agents', owner: { login: 'acme' }, default_branch: 'main' },
        },
        log: { info: () => {}, warn: () => {}, error: () => {} },
      } as never,
      { repos: store.service, readiness: store.readiness, clock: () => T } as never,
    );
    nock(API).get(`${BASE}/branches/main`).reply(304);
    expect(await sync.round([repo], async () => gh(), T + 3_700_000)).toMatchObject({ unchanged: 1 });
  });

  it('works the verdict out again at the same commit once a day, as its gates depend on the time', async () => {
    const DAY = 86_400_000;
    nock(API).get(`${BASE}/branches/main`).matchHeader('if-none-match', 'W/"h1"').reply(304);
    const asked = answerFiles();
    answerMembers(1);
    const r = await sync.round([repo], async () => gh(), T + DAY);
    expect(r).toMatchObject({ computed: 1, requests: 1 + 14 + 6 });
    expect(asked).toHaveLength(14);
    expect(await store.readiness.get('acme/agents')).toMatchObject({
      commit_sha: SHA,
      computed_at: T + DAY,
      head_etag: 'W/"h1"',
    });
  });

  it('keeps the verdict at a new commit that touches none of what readiness reads: one compare', async () => {
    const NEXT = 'e'.repeat(40);
    nock(API)
      .get(`${BASE}/branches/main`)
      .reply(200, { name: 'main', commit: { sha: NEXT } }, { etag: 'W/"h2"' });
    nock(API)
      .get(`${BASE}/compare/${SHA}...${NEXT}`)
      .query({ per_page: '1' })
      .reply(200, {
        status: 'ahead',
        ahead_by: 1,
        behind_by: 0,
        total_commits: 1,
        commits: [{ sha: NEXT }],
        files: [{ filename: 'README.md', status: 'modified', additions: 1, deletions: 0, changes: 1 }],
      });
    const before = await store.readiness.get('acme/agents');
    const r = await sync.round([repo], async () => gh(), T + 86_400_000 + 3_600_000);
    expect(r).toMatchObject({ computed: 0, unchanged: 1, failed: 0, requests: 2 });
    expect(await store.readiness.get('acme/agents')).toMatchObject({
      verdict: before!.verdict,
      computed_at: before!.computed_at,
      commit_sha: NEXT,
      head_etag: 'W/"h2"',
    });
  });

  it('keeps the stored verdict and says why when GitHub refuses', async () => {
    await store.readiness.pushed('acme/agents');
    nock(API)
      .get(`${BASE}/branches/main`)
      .reply(200, { name: 'main', commit: { sha: 'c'.repeat(40) } });
    nock(API)
      .get(`${BASE}/compare/${'e'.repeat(40)}...${'c'.repeat(40)}`)
      .query(true)
      .reply(200, {
        status: 'ahead',
        files: [{ filename: 'examples/runbooks/fast-burn.md', status: 'modified' }],
      });
    nock(API)
      .get((uri) => uri.startsWith(`${BASE}/contents/`))
      .query(true)
      .reply(403, { message: 'Resource not accessible by integration' });
    const r = await sync.round([repo], async () => gh(), T + 86_400_000 + 7_300_000);
    expect(r).toMatchObject({ failed: 1, computed: 0 });
    const row = await store.readiness.get('acme/agents');
    expect(row).toMatchObject({ commit_sha: 'e'.repeat(40) });
    expect(row!.error).toMatch(/Resource not accessible/);
  });
});
