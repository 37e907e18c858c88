/// <reference lib="dom" />
import { generateKeyPairSync } from 'node:crypto';
import { Probot, ProbotOctokit } from 'probot';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetGateApp } from '../../src/bot/app.ts';
import { type BotServer, createBotServer } from '../../src/bot/server.ts';
import { COLOURS } from '../../src/dashboard/charts.ts';
import { dashboardFromEnv } from '../../src/dashboard/config.ts';
import { SqlDashboardStore } from '../../src/dashboard/sql-store.ts';
import { pct } from '../../src/report/format.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { useBrowser } from '../support/browser.ts';
import { contrast } from '../support/browser-mermaid.ts';
import { FLEET_AT, fakeRecord, repoName } from '../support/dashboard-fleet.ts';
import { fillSqlStore } from '../support/dashboard-sql.ts';
import { type FakeOAuth, githubOAuth } from '../support/github-oauth.ts';
import { type FakeGitHub, startGitHub } from '../support/github-server.ts';
import { freePort } from '../support/ports.ts';

// One page of the dashboard as the bot serves it, in Debian's Chromium: the bot's HTTP server with
// the dashboard mounted from the environment over its SQLite store (filled through the store's
// write paths), sign-in through the stand-in GitHub OAuth on loopback, and the repository page
// with the figures the store holds — its state, each SLO's budget, the history the evaluations
// stored drawn in colours that hold 3:1, the pull request held — and a 404 for a repository the
// person cannot read.

const CLIENT_ID = 'Iv23liBotBrowser';
const CLIENT_SECRET = 'bot-browser-client-secret';
const SECRET = 'webhook-secret';
const HOURS = 12;

const browser = useBrowser();
let gh: FakeGitHub;
let oauth: FakeOAuth;
let store: SqliteWatchStore;
let bot: BotServer;
let url: string;

beforeAll(async () => {
  gh = await startGitHub();
  oauth = githubOAuth(gh, CLIENT_ID, CLIENT_SECRET, {
    alice: { id: 1, installations: { 21: [repoName(3)] } },
  });
  store = new SqliteWatchStore(':memory:');
  await fillSqlStore(store, 6, { hours: () => HOURS });
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const port = await freePort();
  bot = await createBotServer({
    probot: new Probot({
      appId: 1,
      privateKey,
      secret: SECRET,
      logLevel: 'fatal',
      Octokit: ProbotOctokit.defaults((o: Record<string, unknown>) => ({ ...o, baseUrl: gh.url })),
    }),
    app: budgetGateApp({
      store,
      source: new JsonlSource({ path: '/unused.jsonl' }),
      clock: () => FLEET_AT,
      policyPath: '.github/error-budget.yml',
    }),
    secret: SECRET,
    log: { info: () => {}, warn: () => {}, error: () => {} },
    dashboard: dashboardFromEnv(
      {
        GITHUB_CLIENT_ID: CLIENT_ID,
        GITHUB_CLIENT_SECRET: CLIENT_SECRET,
        DASHBOARD_CALLBACK_URL: `http://127.0.0.1:${port}/dashboard/callback`,
        DASHBOARD_SESSION_SECRET: 'a-session-secret-of-forty-characters-xx',
      },
      new SqlDashboardStore(store, { policyPath: '.github/error-budget.yml', clock: () => FLEET_AT }),
      { apiUrl: gh.url },
    ),
  });
  await new Promise<void>((r) => bot.server.listen(port, '127.0.0.1', r));
  url = `http://127.0.0.1:${port}`;
  browser.allow(url);
  browser.allow(gh.url);
});

afterAll(async () => {
  if (bot) {
    bot.server.closeAllConnections();
    await new Promise((r) => bot.server.close(r));
  }
  await store?.close();
  await gh?.close();
});

async function open(path: string): Promise<{ page: Page; status: number | undefined }> {
  const page = await browser.page();
  await page.emulateTimezone('Europe/Berlin');
  await page.setViewport({ width: 1200, height: 900, deviceScaleFactor: 1 });
  const r = await page.goto(`${url}${path}`, { waitUntil: 'load' });
  return { page, status: r?.status() };
}

describe('the bot-mounted dashboard in Chromium', () => {
  it('signs in through GitHub and shows a repository with the figures the store holds', async () => {
    oauth.signInAs('alice');
    const { page, status } = await open(`/dashboard/r/${repoName(3)}`);
    // GitHub's sign-in went by on the way: the page asked for is where the person lands.
    expect(status).toBe(200);
    expect(page.url()).toBe(`${url}/dashboard/r/${repoName(3)}`);
    const rec = fakeRecord(3);
    const d = rec.repository.decision;
    const facts = await page.evaluate(() => ({
      who: document.querySelector('header .who')?.textContent,
      state: document.querySelector('.decision h3 .state')?.textContent,
      slos: [...document.querySelectorAll('section.slo')].map((s) => ({
        name: s.getAttribute('data-slo'),
        consumed: s.querySelector('[data-figure=consumed]')?.textContent,
        trend: s.querySelector('figure[data-chart=trend]')?.getAttribute('data-points'),
        svg: !!s.querySelector('figure[data-chart=trend] svg'),
      })),
      held: [...document.querySelectorAll('table.held tbody tr')].map((r) => r.textContent),
      cookie: document.cookie,
    }));
    expect(facts.who).toContain('@alice');
    expect(facts.cookie).toBe('');
    expect(facts.state).toBe(d.state.toUpperCase());
    expect(facts.slos).toEqual(
      d.slos.map((s) => ({ name: s.name, consumed: pct(s.consumed), trend: String(HOURS), svg: true })),
    );
    const blocked = rec.history!.decisions.filter((x) => !x.allowed);
    expect(facts.held).toHaveLength(blocked.length);
    for (const [i, x] of blocked.entries()) expect(facts.held[i]).toContain(`#${x.pull_number}`);

    // The history chart's lines hold 3:1 on the page's background, like every other chart.
    const strokes = await page.$$eval('figure[data-chart=trend] path', (paths) =>
      [
        ...new Set(
          paths
            .filter((p) => Number(p.getAttribute('stroke-width') ?? 0) >= 2)
            .map((p) => p.getAttribute('stroke') ?? ''),
        ),
      ].filter((s) => s.startsWith('#')),
    );
    expect(strokes).toEqual(expect.arrayContaining([COLOURS.consumed, COLOURS.long]));
    for (const s of strokes) expect(contrast(s, '#ffffff'), s).toBeGreaterThanOrEqual(3);

    // Another repository the store holds: not alice's to read, so the same 404 as none at all.
    const other = await page.goto(`${url}/dashboard/r/${repoName(4)}`);
    expect(other?.status()).toBe(404);
    expect(await page.$eval('h1', (h) => h.textContent)).toBe('Not found');
    await page.close();
  });
});
