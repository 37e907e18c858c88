import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { html } from '../../src/dashboard/html.ts';
import { sortFleet } from '../../src/dashboard/pages/fleet.ts';
import { OPEN_ACCESS } from '../../src/dashboard/server.ts';
import { fakeFleet, HOSTILE, repoName } from '../support/dashboard-fleet.ts';
import { serveDashboard } from '../support/dashboard-server.ts';

// The pages as plain HTTP: every route, what each answers for, the 404s, and hostile text from
// repositories coming out as text.

const store = fakeFleet(12, 5);
let server: Awaited<ReturnType<typeof serveDashboard>>;
beforeAll(async () => {
  server = await serveDashboard({ store, access: OPEN_ACCESS, base: '/dashboard' });
});
afterAll(() => server?.close());

const get = async (path: string, init?: RequestInit) => {
  const r = await fetch(`${server.url}${path}`, init);
  return { status: r.status, text: await r.text(), headers: r.headers };
};

describe('html', () => {
  it('escapes every interpolated value, nested or not', () => {
    const out = html`<p title="${'"x'}">${['<a>', html`<b>${"'&"}</b>`]}</p>`.value;
    expect(out).toBe('<p title="&quot;x">&lt;a&gt;<b>&#39;&amp;</b></p>');
  });
});

describe('the dashboard handler', () => {
  it('serves the fleet, every row, worst first by default', async () => {
    const r = await get('/dashboard/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    const rows = [...r.text.matchAll(/<tr data-repo="([^"]+)"/g)].map((m) => m[1]);
    expect(rows).toHaveLength(12);
    const states = [...r.text.matchAll(/<td><span class="state state-([a-z-]+)">/g)].map((m) => m[1]);
    const rank = { 'hard-pause': 2, 'soft-pause': 1, ship: 0 } as Record<string, number>;
    expect(states.map((s) => rank[s!])).toEqual([...states.map((s) => rank[s!])].sort((a, b) => b! - a!));
  });

  it('sorts by any column through the query', async () => {
    const rows = await store.fleet();
    const want = sortFleet(rows, 'burn', 'asc').map((r) => r.repo);
    const r = await get('/dashboard/?sort=burn&dir=asc');
    expect([...r.text.matchAll(/<tr data-repo="([^"]+)"/g)].map((m) => m[1])).toEqual(want);
    const burns = sortFleet(rows, 'burn', 'asc').map((x) => x.burn!);
    expect(burns).toEqual([...burns].sort((a, b) => a - b));
  });

  it('serves each page of a repository and 404s for an unknown one', async () => {
    const repo = repoName(3);
    for (const tab of ['', '/deployments', '/history', '/oncall'])
      expect((await get(`/dashboard/r/${repo}${tab}`)).status).toBe(200);
    expect((await get('/dashboard/r/nobody/nothing')).status).toBe(404);
    expect((await get('/dashboard/r/nobody/nothing/history')).status).toBe(404);
    expect((await get('/elsewhere')).text).toBe('outside the dashboard\n');
    expect((await get('/dashboard/r/a/b/c')).status).toBe(404);
    expect((await get('/dashboard/r/%E0%A4%A/x')).status).toBe(404);
  });

  it('changes nothing on a GET and refuses other methods on pages', async () => {
    expect((await get('/dashboard/', { method: 'POST' })).status).toBe(405);
    expect((await get(`/dashboard/r/${repoName(1)}`, { method: 'DELETE' })).status).toBe(405);
  });

  it('writes hostile text from a repository as text, never markup', async () => {
    const repo = repoName(5);
    for (const tab of ['', '/deployments', '/history']) {
      const r = await get(`/dashboard/r/${repo}${tab}`);
      expect(r.text).not.toContain(HOSTILE);
      expect(r.text).not.toMatch(/<script>window/);
      expect(r.text).not.toMatch(/<img src=x/);
      expect(r.text).toContain('&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;');
    }
    // A runbook that is not an https URL is shown, never linked.
    const page = (await get(`/dashboard/r/${repo}`)).text;
    expect(page).not.toContain('href="javascript:');
  });
});
