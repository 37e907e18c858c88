import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import examples from '@octokit/webhooks-examples';
import { Probot, ProbotOctokit } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetGateApp } from '../../src/bot/app.ts';
import { AuditSync } from '../../src/bot/audit-sync.ts';
import { Evaluator } from '../../src/bot/evaluator.ts';
import { stateOfHeadline } from '../../src/bot/handlers/gate-check.ts';
import { IncidentIssues } from '../../src/bot/incident-issue.ts';
import { collectingLog } from '../../src/bot/log.ts';
import { type BotServer, createBotServer } from '../../src/bot/server.ts';
import { dashboardFromEnv } from '../../src/dashboard/config.ts';
import { SqlDashboardStore } from '../../src/dashboard/sql-store.ts';
import { type AuditRecord, chainRecord, serializeRecord } from '../../src/policy/overrides/audit-chain.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { pct } from '../../src/report/format.ts';
import { renderHeadline } from '../../src/report/headline.ts';
import { DEMO_END } from '../../src/scenarios/demo.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { cookieBrowser } from '../support/cookie-browser.ts';
import { fakeRecord, repoName } from '../support/dashboard-fleet.ts';
import { fillSqlStore, POLICY_TEXT } from '../support/dashboard-sql.ts';
import { githubOAuth } from '../support/github-oauth.ts';
import { type FakeGitHub, startGitHub } from '../support/github-server.ts';
import { freePort } from '../support/ports.ts';

// The dashboard as the bot serves it: the bot's own HTTP server (server.ts) with the dashboard
// mounted from the environment as start.ts mounts it, over the bot's SQLite store. The figures come
// from the bot's real write paths: the evaluator on the bundled demo telemetry (three evaluations,
// an hour apart, ending at the demo's end), the gate's check run delivered as a signed
// `check_run.completed` webhook, the audit log read from the audit branch, an incident whose
// timeline picks up the override; the fleet fixture fills the rest (watches, incidents). GitHub,
// its OAuth included, is the loopback stand-in. A person signs in and sees exactly those figures.

const ROOT = resolve(import.meta.dirname, '../..');
const AT = Date.parse(DEMO_END);
const HOUR = 3_600_000;
const SECRET = 'webhook-secret-for-tests';
const CLIENT_ID = 'Iv23liBotDashboard';
const CLIENT_SECRET = 'bot-dashboard-client-secret';
const HEAD = 'd'.repeat(40);
const TITLE = 'SOFT-PAUSE — prompts/triage.md is high risk — blocked';
const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const policy = loadPolicy(POLICY_TEXT, '.github/error-budget.yml').policy;
const source = new JsonlSource({ path: resolve(ROOT, 'examples/telemetry/demo.jsonl.gz') });
const octokit = (gh: FakeGitHub) =>
  ProbotOctokit.defaults((o: Record<string, unknown>) => ({
    ...o,
    baseUrl: gh.url,
    retry: { enabled: false },
    throttle: { enabled: false },
  }));

/** The audit log on its branch: one override applied an hour before the incident opened. */
function auditLog(): AuditRecord[] {
  const applied = chainRecord(null, {
    kind: 'override-applied',
    repo: 'acme/agents',
    pull_request: 55,
    sha: 'e'.repeat(40),
    label: 'override:catastrophic-event',
    reason: 'catastrophic-event',
    actor: 'sre-lead',
    author: 'dev-1',
    at: new Date(AT - 90 * 60_000).toISOString(),
    state: 'soft-pause',
    message: 'soft-pause overridden by @sre-lead',
    slos: [],
    source: 'action',
  });
  return [applied];
}

let gh: FakeGitHub;
let store: SqliteWatchStore;
let bot: BotServer;
let url: string;
let bare: BotServer;
let bareUrl: string;

const listen = async (b: BotServer, port = 0) => {
  await new Promise<void>((r) => b.server.listen(port, '127.0.0.1', r));
  const addr = b.server.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port}`;
};

beforeAll(async () => {
  gh = await startGitHub();
  githubOAuth(gh, CLIENT_ID, CLIENT_SECRET, {
    alice: { id: 1, installations: { 21: [repoName(0), repoName(3)], 22: ['acme/agents'] } },
  });
  const text = (s: string) => ({
    type: 'file',
    encoding: 'base64',
    content: Buffer.from(s).toString('base64'),
    sha: 'f'.repeat(40),
    size: s.length,
  });
  gh.route('POST', '/app/installations/:id/access_tokens', [
    201,
    { token: 'ghs_installation', expires_at: '2099-01-01T00:00:00Z', permissions: {} },
  ]);
  gh.route('GET', '/repos/:owner/:repo/contents/:path', (req) => {
    if (req.params.path === '.github/error-budget.yml') return [200, text(POLICY_TEXT), { etag: 'W/"p"' }];
    if (req.params.path === 'audit.jsonl' && /ref=budget-gate%2Faudit/.test(req.query))
      return [200, text(auditLog().map(serializeRecord).join('')), { etag: 'W/"a"' }];
    return [404, { message: 'Not Found' }];
  });
  gh.route('GET', '/repos/acme/agents/commits/:sha/pulls', (req) => [
    200,
    [
      {
        number: 57,
        title: 'Switch the triage model',
        state: 'open',
        user: { login: 'dev-2' },
        head: { sha: req.params.sha },
      },
    ],
  ]);

  store = new SqliteWatchStore(':memory:');
  await fillSqlStore(store, 4);
  await store.service.sync(
    22,
    ['agents', 'secret'].map((repo) => ({
      owner: 'acme',
      repo,
      installation_id: 22,
      default_branch: 'main',
    })),
    AT - 3 * HOUR,
  );
  const log = collectingLog();
  const audit = new AuditSync({ records: store.records, log });
  const issues = new IncidentIssues({
    store: store.incidents,
    log,
    deployments: async () => [],
    overrides: (repo, from, to) => store.records.auditBetween(repo, 'override-applied', from, to),
  });
  let now = AT - 2 * HOUR;
  const evaluator = new Evaluator({
    store: store.service,
    decisions: store.records,
    source,
    clock: () => now,
    replica: 'a',
    leaseMs: 120_000,
    floorMs: 30_000,
    policyPath: '.github/error-budget.yml',
    github: async () => new (octokit(gh))({ auth: { token: 'ghs_test' } }),
    log,
  });
  for (const at of [AT - 2 * HOUR, AT - HOUR, AT]) {
    now = at;
    const r = await evaluator.round();
    expect(r.errors).toEqual([]);
    expect(r.evaluated).toBe(2);
  }
  // The audit logs, read back as the bot's loop reads them.
  const reader = new (octokit(gh))({ auth: { token: 'ghs_test' } });
  expect(await audit.round(await store.service.list(), async () => reader, AT)).toMatchObject({
    read: 2,
    added: 2,
  });
  // An incident of acme/agents, opened half an hour before the end: its timeline takes the override.
  const inc = await store.incidents.open(
    {
      key: 'acme/agents/tasks-success-paid/fast-burn',
      repo: 'acme/agents',
      installation_id: 22,
      slo: 'tasks-success-paid',
      alert: 'fast-burn',
      severity: 'sev3',
      action: 'page',
    },
    AT - 30 * 60_000,
  );
  await store.incidents.note(inc, { at: AT - 30 * 60_000, kind: 'fired', text: 'fired' });
  const gheClient = new (octokit(gh))({ auth: { token: 'ghs_test' } });
  const e = { policy, at: AT, gh: gheClient } as never;
  await issues.changed(inc, e);
  await issues.changed(inc, e); // noted once, however often

  const probot = new Probot({
    appId: 1,
    privateKey,
    secret: SECRET,
    logLevel: 'fatal',
    Octokit: octokit(gh),
  });
  const app = budgetGateApp({
    store,
    source,
    clock: () => AT,
    policyPath: '.github/error-budget.yml',
    repos: store.service,
    incidents: store.incidents,
    records: store.records,
    gateCheckName: 'budget-gate',
  });
  const port = await freePort();
  const env = {
    GITHUB_CLIENT_ID: CLIENT_ID,
    GITHUB_CLIENT_SECRET: CLIENT_SECRET,
    DASHBOARD_CALLBACK_URL: `http://127.0.0.1:${port}/dashboard/callback`,
    DASHBOARD_SESSION_SECRET: 's'.repeat(40),
  };
  const dashboard = dashboardFromEnv(
    env,
    new SqlDashboardStore(store, { policyPath: '.github/error-budget.yml', clock: () => AT }),
    { apiUrl: gh.url },
  );
  const silent = { info: () => {}, warn: () => {}, error: () => {} };
  bot = await createBotServer({ probot, app, secret: SECRET, log: silent, dashboard });
  url = await listen(bot, port);
  // The same bot with nothing configured: no dashboard.
  bare = await createBotServer({
    // A Probot of its own: loading the app into the same one twice would handle each webhook twice.
    probot: new Probot({ appId: 1, privateKey, secret: SECRET, logLevel: 'fatal', Octokit: octokit(gh) }),
    app,
    secret: SECRET,
    log: silent,
    dashboard: dashboardFromEnv({}, new SqlDashboardStore(store, { policyPath: 'x' })),
  });
  bareUrl = await listen(bare);
});

afterAll(async () => {
  for (const b of [bot, bare]) {
    if (!b) continue;
    b.server.closeAllConnections();
    await new Promise((r) => b.server.close(r));
  }
  await store?.close();
  await gh?.close();
});

async function deliver(name: string, payload: unknown): Promise<number> {
  const body = JSON.stringify(payload);
  const r = await fetch(`${url}/api/github/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': name,
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    },
    body,
  });
  return r.status;
}

function checkRun(over: { name?: string; slug?: string; id: number }) {
  const family = (examples as unknown as { name: string; examples: Record<string, any>[] }[]).find(
    (e) => e.name === 'check_run',
  )!;
  const p = structuredClone(
    family.examples.find((e) => e.action === 'completed' && e.check_run.app?.slug === 'github-actions')!,
  );
  p.installation = { id: 22 };
  p.repository.name = 'agents';
  p.repository.owner.login = 'acme';
  p.repository.full_name = 'acme/agents';
  Object.assign(p.check_run, {
    id: over.id,
    name: over.name ?? 'budget-gate',
    head_sha: HEAD,
    status: 'completed',
    conclusion: 'failure',
    completed_at: new Date(AT - 10 * 60_000).toISOString(),
    output: {
      title: TITLE,
      summary: '### 🟠 SOFT-PAUSE — blocked',
      text: null,
      annotations_count: 0,
      annotations_url: '',
    },
  });
  p.check_run.app.slug = over.slug ?? 'github-actions';
  p.check_run.pull_requests = [
    {
      ...p.check_run.pull_requests[0],
      number: 57,
      head: { ...p.check_run.pull_requests[0].head, sha: HEAD },
    },
  ];
  return p;
}

async function until<T>(fn: () => Promise<T | null>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('not recorded');
}

const signedIn = async () => {
  const b = cookieBrowser();
  const r = await b.follow(`${url}/dashboard/`);
  expect(r.status).toBe(200);
  return b;
};
const decodeHtml = (s: string) =>
  s
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");

describe('the dashboard mounted in the bot', () => {
  it('records the gate’s check runs from their webhook, and only the gate’s', async () => {
    expect(stateOfHeadline(TITLE)).toBe('soft-pause');
    expect(stateOfHeadline('invalid policy: 2 problems in .github/error-budget.yml')).toBeNull();
    // Another app's check run of the same name, and the gate's job run, write nothing.
    expect(await deliver('check_run', checkRun({ id: 1, slug: 'octocoders-linter' }))).toBeLessThan(300);
    expect(await deliver('check_run', checkRun({ id: 2, name: 'gate' }))).toBeLessThan(300);
    expect(await deliver('check_run', checkRun({ id: 3 }))).toBeLessThan(300);
    const [d] = await until(async () => {
      const x = await store.records.gateDecisions('acme/agents', 10);
      return x.length ? x : null;
    });
    expect(await store.records.gateDecisions('acme/agents', 10)).toHaveLength(1);
    expect(d).toMatchObject({
      check_run_id: 3,
      pull_number: 57,
      sha: HEAD,
      state: 'soft-pause',
      allowed: false,
      headline: TITLE,
    });
    // The pull request was unknown: GitHub was asked once for it.
    expect(gh.requests.filter((r) => r.path === `/repos/acme/agents/commits/${HEAD}/pulls`)).toHaveLength(1);
  });

  it('serves the fleet with exactly the repositories the person can read, and 404 for the rest', async () => {
    const b = await signedIn();
    const fleet = await b.go(`${url}/dashboard/`);
    const rows = [...fleet.text.matchAll(/<tr data-repo="([^"]+)"/g)].map((m) => m[1]).sort();
    expect(rows).toEqual(['acme/agents', repoName(0), repoName(3)].sort());
    expect(fleet.text).toContain('@alice');
    // acme/secret is stored and evaluated, and not alice's to read: the same 404 as nothing at all.
    expect((await b.go(`${url}/dashboard/r/acme/secret`)).status).toBe(404);
    expect((await b.go(`${url}/dashboard/r/acme/nothing`)).status).toBe(404);
    expect((await store.records.decision('acme/secret'))?.state).toBeDefined();
  });

  it('serves a repository with the figures the store holds: decision, SLOs, history, held pull request', async () => {
    const b = await signedIn();
    const page = await b.go(`${url}/dashboard/r/acme/agents`);
    expect(page.status).toBe(200);
    const stored = JSON.parse((await store.records.decision('acme/agents'))!.decision);
    expect(stored.evaluated_at).toBe(DEMO_END);
    const text = decodeHtml(page.text);
    expect(text).toContain(renderHeadline(stored));
    const consumed = [...page.text.matchAll(/data-figure="consumed">([^<]+)</g)].map((m) => m[1]);
    expect(consumed).toEqual(stored.slos.map((s: { consumed: number }) => pct(s.consumed)));
    // Three evaluations an hour apart: three points of history per SLO.
    const points = [...page.text.matchAll(/data-chart="trend" data-points="(\d+)"/g)].map((m) => m[1]);
    expect(points).toEqual(stored.slos.map(() => '3'));
    expect(text).toContain('#57 Switch the triage model');
    expect(text).toContain(TITLE);
  });

  it('lets a pull request go from the held list when its pull_request.closed arrives', async () => {
    const family = (examples as unknown as { name: string; examples: Record<string, any>[] }[]).find(
      (e) => e.name === 'pull_request',
    )!;
    const p = structuredClone(family.examples.find((e) => e.action === 'closed')!);
    p.installation = { id: 22 };
    p.repository.name = 'agents';
    p.repository.owner.login = 'acme';
    p.pull_request.number = 57;
    p.pull_request.head.sha = HEAD;
    expect(await deliver('pull_request', p)).toBeLessThan(300);
    await until(async () => ((await store.records.held('acme/agents')).length === 0 ? true : null));
    const b = await signedIn();
    const page = await b.go(`${url}/dashboard/r/acme/agents`);
    expect(page.text).toContain('No open pull request is held.');
  });

  it('serves deployments, history with the override in the incident’s timeline, and on-call', async () => {
    const b = await signedIn();
    const dep = decodeHtml((await b.go(`${url}/dashboard/r/${repoName(3)}/deployments`)).text);
    const watch = fakeRecord(3).deployments![0]!;
    expect(dep).toContain('revert pull request <strong>#42');
    expect([...dep.matchAll(/<tr><td><time/g)]).toHaveLength(watch.evidence.length);
    const hist = decodeHtml((await b.go(`${url}/dashboard/r/acme/agents/history`)).text);
    expect(hist).toContain(TITLE);
    expect(hist).toMatch(/<tr data-kind="override-applied">.*catastrophic-event.*@sre-lead/s);
    expect(hist).toContain('<strong>override</strong> override `override:catastrophic-event` let #55 ship');
    const events = await store.incidents.timeline({
      key: 'acme/agents/tasks-success-paid/fast-burn',
      opened_at: AT - 30 * 60_000,
    });
    expect(events.map((e) => e.kind)).toEqual(['override', 'fired']);
    const oncall = decodeHtml((await b.go(`${url}/dashboard/r/acme/agents/oncall`)).text);
    expect(oncall).toContain('data-role="primary">@carol');
  });

  it('is off unless configured: the bot without the variables has no /dashboard', async () => {
    const r = await fetch(`${bareUrl}/dashboard/`, { redirect: 'manual' });
    expect(r.status).toBe(404);
    expect(() =>
      dashboardFromEnv(
        { DASHBOARD_SESSION_SECRET: 's'.repeat(40) },
        new SqlDashboardStore(store, { policyPath: 'x' }),
      ),
    ).toThrow(/needs GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, DASHBOARD_CALLBACK_URL/);
  });
});
