/// <reference lib="dom" />
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubSignIn } from '../../src/dashboard/auth.ts';
import { COLOURS } from '../../src/dashboard/charts.ts';
import type { Decision } from '../../src/policy/gate/decision-schema.ts';
import { useBrowser } from '../support/browser.ts';
import { contrast, matchesReference } from '../support/browser-mermaid.ts';
import { DEMO_ARGS } from '../support/cli.ts';
import { fakeFleet, fakeRecord, repoName } from '../support/dashboard-fleet.ts';
import { serveDashboard } from '../support/dashboard-server.ts';
import { type FakeOAuth, githubOAuth } from '../support/github-oauth.ts';
import { type FakeGitHub, startGitHub } from '../support/github-server.ts';

// The dashboard in Debian's headless Chromium: the local mode as `budget-gate dashboard` serves
// the bundled example (a real CLI process), and the signed-in mode against a stand-in GitHub OAuth
// on loopback, page by page with the figures the data holds, in light and dark, with reference
// screenshots (BUDGET_GATE_UPDATE_SCREENSHOTS=1 rewrites them after a look).

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = resolve(ROOT, 'test/fixtures/dashboard');
const BACKGROUND = { light: '#ffffff', dark: '#0d1117' } as const;

const browser = useBrowser();

async function open(url: string, theme: 'light' | 'dark' = 'light', zone = 'Europe/Berlin'): Promise<Page> {
  const page = await browser.page();
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: theme }]);
  await page.emulateTimezone(zone);
  await page.setViewport({ width: 1200, height: 900, deviceScaleFactor: 1 });
  const r = await page.goto(url, { waitUntil: 'load' });
  (page as Page & { status?: number }).status = r?.status();
  return page;
}
const statusOf = (p: Page) => (p as Page & { status?: number }).status;

/** Every stroke and fill of the chart lines and bars, with the page's own background. */
async function chartColours(page: Page) {
  return page.evaluate(() => {
    const rgb = (c: string) => {
      const m = /rgba?\((\d+), (\d+), (\d+)/.exec(c);
      return m
        ? `#${m
            .slice(1, 4)
            .map((x) => Number(x).toString(16).padStart(2, '0'))
            .join('')}`
        : c;
    };
    const strokes = new Set<string>();
    for (const el of document.querySelectorAll('figure.chart path')) {
      if (el.closest('clipPath')) continue; // clipping outlines are never painted
      const s = getComputedStyle(el);
      const w = Number.parseFloat(s.strokeWidth);
      if (s.stroke !== 'none' && w >= 2) strokes.add(rgb(s.stroke));
      // Filled areas (bars, marks); an open line's fill draws nothing, a zero-opacity box neither.
      const closed = /Z\s*$/i.test(el.getAttribute('d') ?? '');
      if (closed && s.fill !== 'none' && Number(s.fillOpacity) > 0 && !/^rgba\(.*, 0\)$/.test(s.fill))
        strokes.add(rgb(s.fill));
    }
    return { strokes: [...strokes], background: rgb(getComputedStyle(document.body).backgroundColor) };
  });
}

describe('local mode: budget-gate dashboard on the bundled example', () => {
  let child: ChildProcess;
  let url: string;
  let out = '';
  let decision: Decision;
  beforeAll(async () => {
    // The same figures as `evaluate --json` on the same inputs: the page must draw these.
    const json = execFileSync(process.execPath, ['bin/budget-gate.js', 'evaluate', ...DEMO_ARGS, '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    decision = JSON.parse(json) as Decision;
    child = spawn(
      process.execPath,
      ['bin/budget-gate.js', 'dashboard', ...DEMO_ARGS, '--port', '0', '--repo', 'acme/agents'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stderr!.on('data', (d) => {
      out += d;
    });
    url = await new Promise<string>((ok, fail) => {
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /open (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
        if (m) ok(m[1]!);
      });
      child.once('exit', (code) => fail(new Error(`dashboard exited ${code}: ${out}`)));
    });
    browser.allow(url);
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('binds to loopback and says where to open it', () => {
    expect(out).toMatch(/budget-gate dashboard: acme\/agents, SOFT-PAUSE at 2026-11-20T09:00:00.000Z/);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('shows the repository: state, every SLO with its figures, the alert, the decision text', async () => {
    const page = await open(`${url}/r/acme/agents`);
    expect(statusOf(page)).toBe(200);
    const facts = await page.evaluate(() => ({
      headline: document.querySelector('.decision .headline')?.textContent,
      state: document.querySelector('.decision h3 .state')?.textContent,
      slos: [...document.querySelectorAll('section.slo')].map((s) => ({
        name: s.getAttribute('data-slo'),
        consumed: s.querySelector('[data-figure=consumed]')?.textContent,
        charts: [...s.querySelectorAll('figure.chart svg')].length,
      })),
      alerts: [...document.querySelectorAll('table.alerts tbody tr')].map((r) => r.textContent),
      reasons: [...document.querySelectorAll('.reasons li')].map((l) => l.textContent),
      times: [...document.querySelectorAll('time')].map((t) => t.textContent),
    }));
    expect(facts.state).toBe('SOFT-PAUSE');
    expect(facts.headline).toBe(
      'SOFT-PAUSE — low-risk change ships — tasks-success-paid 62% consumed at 2.1x pace',
    );
    expect(facts.slos).toEqual([
      { name: 'tasks-success-paid', consumed: '62%', charts: 2 },
      { name: 'tasks-success-free', consumed: '31%', charts: 2 },
      { name: 'task-latency-paid', consumed: '46%', charts: 2 },
      { name: 'task-cost', consumed: '50%', charts: 2 },
    ]);
    expect(facts.alerts).toHaveLength(1);
    expect(facts.alerts[0]).toContain('creeping-burn');
    expect(facts.alerts[0]).toContain('1.7x over 3d, 1.8x over 6h');
    expect(facts.reasons[0]).toContain('556 bad of 18,028 tasks; 901 allowed');
    // UTC in the text, and the viewer's own zone beside it (Berlin is UTC+1 in November).
    expect(facts.times[0]).toMatch(/^2026-11-20 09:00 UTC \(.*10:00.*\)$/);
    await page.close();
  });

  it('draws the budget chart with the real shape: 25 points rising to 62%, and both pause lines', async () => {
    const page = await open(`${url}/r/acme/agents`);
    const drawn = await page.evaluate(() => {
      const svg = document.querySelector('section.slo figure[data-chart=budget] svg')!;
      return [...svg.querySelectorAll('path')]
        .filter(
          (p) =>
            ['#2f81f7', '#bf8700', '#e5534b'].includes(p.getAttribute('stroke') ?? '') &&
            !p.hasAttribute('transform'),
        )
        .filter((p) => Number(p.getAttribute('stroke-width') ?? 1) >= 2)
        .map((p) => ({ stroke: p.getAttribute('stroke'), d: p.getAttribute('d') }));
    });
    const consumed = drawn.find((p) => p.stroke === COLOURS.consumed)!;
    const points = consumed
      .d!.match(/[ML]\s*[\d.]+\s+[\d.]+/g)!
      .map((s) => s.slice(1).trim().split(/\s+/).map(Number));
    const slo = decision.slos[0]!;
    expect(points).toHaveLength(slo.series.length);
    // y grows downwards in SVG: the line only rises (budget is only spent), the last point highest.
    for (let i = 1; i < points.length; i++)
      expect(points[i]![1]!).toBeLessThanOrEqual(points[i - 1]![1]! + 0.01);
    const soft = drawn
      .find((p) => p.stroke === COLOURS.soft)!
      .d!.match(/[\d.]+/g)!
      .map(Number);
    const hard = drawn
      .find((p) => p.stroke === COLOURS.hard)!
      .d!.match(/[\d.]+/g)!
      .map(Number);
    const [ySoft, yHard] = [soft[1]!, hard[1]!];
    const y0 = ySoft + (ySoft - yHard); // 0% is as far below 50% as 100% is above it
    const last = points.at(-1)![1]!;
    expect((y0 - last) / (y0 - yHard)).toBeCloseTo(slo.series.at(-1)!.consumed!, 2);
    expect(slo.series.at(-1)!.consumed).toBeCloseTo(0.6168, 3);
    await page.close();
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`reads in the ${theme} theme: chart colours hold 3:1, the page matches its reference`, async () => {
      const page = await open(`${url}/r/acme/agents`, theme, 'UTC');
      const { strokes, background } = await chartColours(page);
      expect(background).toBe(BACKGROUND[theme]);
      expect(strokes.length).toBeGreaterThanOrEqual(5);
      for (const s of strokes)
        expect(contrast(s, background), `${s} on ${background}`).toBeGreaterThanOrEqual(3);
      // The first SLO with its two charts: the part of the page a change to the drawing moves.
      const png = Buffer.from(await (await page.$('section.slo'))!.screenshot({ type: 'png' }));
      const ok = await matchesReference(page, png, resolve(FIXTURES, `local-slo-${theme}.png`), 0.02);
      expect(ok).toEqual({ ok: true });
      if (theme === 'light') {
        // The README's picture: the top of the page down through the first SLO's charts.
        const bottom = await page.$eval(
          'section.slo .charts',
          (c) => c.getBoundingClientRect().bottom + window.scrollY,
        );
        const shot = Buffer.from(
          await page.screenshot({
            type: 'png',
            clip: { x: 0, y: 0, width: 1200, height: Math.ceil(bottom) + 16 },
            captureBeyondViewport: true,
          }),
        );
        expect(await matchesReference(page, shot, resolve(ROOT, 'docs/dashboard.png'), 0.02)).toEqual({
          ok: true,
        });
      }
      await page.close();
    });
  }

  it('lists the one repository in the fleet, and shows on-call and readiness', async () => {
    const fleet = await open(`${url}/`);
    expect(
      await fleet.$$eval('table.fleet tbody tr', (rows) => rows.map((r) => r.getAttribute('data-repo'))),
    ).toEqual(['acme/agents']);
    await fleet.close();
    const oncall = await open(`${url}/r/acme/agents/oncall`);
    const facts = await oncall.evaluate(() => ({
      primary: document.querySelector('[data-role=primary]')?.textContent,
      next: document.querySelector('[data-role=next]')?.textContent,
      verdict: document.querySelector('.readiness [data-verdict]')?.textContent,
      gates: document.querySelectorAll('table.gates tbody tr').length,
    }));
    // examples/error-budget.yml: weekly from Mon 2026-11-02 09:00 Berlin: alice, bob, then carol's week (Nov 16–23).
    expect(facts).toMatchObject({ primary: '@carol', next: '@alice', gates: 5 });
    expect(facts.verdict).toMatch(/^(NOT YET|SOFT-LAUNCH ONLY|PRODUCTION-READY)$/);
    await oncall.close();
  });

  it('says why there is no deployment replay or history locally', async () => {
    const page = await open(`${url}/r/acme/agents/deployments`);
    expect(await page.$eval('main p.note', (p) => p.textContent)).toMatch(/no deployment markers/);
    await page.close();
  });
});

describe('signed in with GitHub (stand-in OAuth on loopback)', () => {
  const CLIENT_ID = 'Iv23liBrowserTest';
  const CLIENT_SECRET = 'browser-test-secret';
  let gh: FakeGitHub;
  let oauth: FakeOAuth;
  let server: Awaited<ReturnType<typeof serveDashboard>>;
  const store = fakeFleet(8);
  beforeAll(async () => {
    gh = await startGitHub();
    oauth = githubOAuth(gh, CLIENT_ID, CLIENT_SECRET, {
      alice: { id: 1, installations: { 21: [repoName(0), repoName(3), repoName(4)] } },
      mallory: { id: 2, installations: { 21: [repoName(5)] } },
    });
    let access: ReturnType<typeof githubSignIn> | null = null;
    server = await serveDashboard({
      store,
      base: '/dashboard',
      access: { route: (...a) => access!.route(...a), viewer: (...a) => access!.viewer(...a) },
    });
    access = githubSignIn({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      callbackUrl: `${server.url}/dashboard/callback`,
      sessionSecret: 'a-session-secret-of-forty-characters-xx',
      base: '/dashboard',
      apiUrl: gh.url,
    });
    browser.allow(server.url);
    browser.allow(gh.url);
  });
  afterAll(async () => {
    await server?.close();
    await gh?.close();
  });

  it('signs in through GitHub and shows exactly the readable repositories, sorted by a click', async () => {
    oauth.signInAs('alice');
    const page = await open(`${server.url}/dashboard/`);
    expect(page.url()).toBe(`${server.url}/dashboard/`);
    const rows = () => page.$$eval('table.fleet tbody tr', (r) => r.map((x) => x.getAttribute('data-repo')));
    expect((await rows()).sort()).toEqual([repoName(0), repoName(3), repoName(4)].sort());
    expect(await page.$eval('header .who', (w) => w.textContent)).toContain('@alice');
    // The session cookie is out of the page's reach.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await Promise.all([page.waitForNavigation(), page.click('th a[href*="sort=repo"]')]);
    expect(await rows()).toEqual([repoName(0), repoName(3), repoName(4)]);
    await Promise.all([page.waitForNavigation(), page.click('th a[href*="sort=repo"]')]);
    expect(await rows()).toEqual([repoName(4), repoName(3), repoName(0)]);

    // Another repository: the same 404 as one that does not exist.
    const r = await page.goto(`${server.url}/dashboard/r/${repoName(5)}`);
    expect(r?.status()).toBe(404);

    // Deployments: the watch's evidence minute by minute, its verdict and its revert PR.
    await page.goto(`${server.url}/dashboard/r/${repoName(3)}/deployments`);
    const watch = fakeRecord(3).deployments![0]!;
    const w = await page.evaluate(() => ({
      verdict: document.querySelector('[data-verdict]')?.textContent,
      text: document.querySelector('section.watch')?.textContent,
      minutes: document.querySelectorAll('table.evidence tbody tr').length,
      chart: !!document.querySelector('figure[data-chart=evidence] svg'),
    }));
    expect(w.verdict).toBe('reverted');
    expect(w.text).toContain('revert pull request #42');
    expect(w.text).toContain('auto_revert.burn_rate');
    expect(w.minutes).toBe(watch.evidence.length);
    expect(w.chart).toBe(true);

    // History: overrides with their reasons and approvers, the incident's timeline.
    await page.goto(`${server.url}/dashboard/r/${repoName(3)}/history`);
    const h = await page.evaluate(() => ({
      applied: document.querySelector('tr[data-kind=override-applied]')?.textContent,
      refused: document.querySelector('tr[data-kind=override-refused]')?.textContent,
      timeline: [...document.querySelectorAll('ol.timeline li strong')].map((s) => s.textContent),
    }));
    expect(h.applied).toContain('catastrophic-event');
    expect(h.applied).toContain('@sre-lead');
    expect(h.refused).toContain('@dev-1');
    expect(h.timeline).toEqual(['fired', 'paged', 'acknowledged', 'resolved']);
    const png = Buffer.from(await page.screenshot({ type: 'png' }));
    expect(await matchesReference(page, png, resolve(FIXTURES, 'signed-in-history-light.png'), 0.02)).toEqual(
      {
        ok: true,
      },
    );

    // Sign out (a POST from the page's own form): the next page asks GitHub again, where
    // another person signs in.
    await Promise.all([page.waitForNavigation(), page.click('header .who button')]);
    expect(await page.$eval('h1', (x) => x.textContent)).toBe('Signed out');
    oauth.signInAs('mallory');
    await page.goto(`${server.url}/dashboard/`);
    expect((await rows()).sort()).toEqual([repoName(5)]);
    expect(await page.$eval('header .who', (x) => x.textContent)).toContain('@mallory');
    await page.close();
  });

  it('refuses a person without access to a repository with a 404', async () => {
    oauth.signInAs('mallory');
    const page = await open(`${server.url}/dashboard/r/${repoName(0)}`);
    expect(statusOf(page)).toBe(404);
    expect(await page.$eval('h1', (h) => h.textContent)).toBe('Not found');
    await page.close();
  });
});
