import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubSignIn } from '../../src/dashboard/auth.ts';
import { dashboardFromEnv } from '../../src/dashboard/config.ts';
import { cookieBrowser } from '../support/cookie-browser.ts';
import { fakeFleet, repoName } from '../support/dashboard-fleet.ts';
import { serveDashboard } from '../support/dashboard-server.ts';
import { type FakeOAuth, githubOAuth } from '../support/github-oauth.ts';
import { type FakeGitHub, startGitHub } from '../support/github-server.ts';

// Sign-in with GitHub against a stand-in GitHub on loopback: the redirect with its state, the
// code exchange, exactly the readable repositories, 404 for the rest, access re-checked, the
// session's expiry, and logout by POST with its CSRF token.

const CLIENT_ID = 'Iv23liDashboardTest';
const CLIENT_SECRET = 'client-secret-for-tests';
const SECRET = 'x'.repeat(40);
const MIN = 60_000;

let gh: FakeGitHub;
let oauth: FakeOAuth;
let server: Awaited<ReturnType<typeof serveDashboard>>;
let clock = Date.parse('2026-11-20T09:00:00Z');

beforeAll(async () => {
  gh = await startGitHub();
  oauth = githubOAuth(gh, CLIENT_ID, CLIENT_SECRET, {
    alice: { id: 1, installations: { 11: [repoName(0), repoName(1)], 12: [repoName(2)] } },
    mallory: { id: 2, installations: { 11: [repoName(3)] } },
  });
  const base = '/dashboard';
  // The server's own URL is needed for the callback: start it, then give the access layer its URL.
  let access: ReturnType<typeof githubSignIn> | null = null;
  server = await serveDashboard({
    store: fakeFleet(6),
    base,
    access: {
      route: (...a) => access!.route(...a),
      viewer: (...a) => access!.viewer(...a),
    },
  });
  access = githubSignIn({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    callbackUrl: `${server.url}${base}/callback`,
    sessionSecret: SECRET,
    base,
    apiUrl: gh.url,
    secureCookies: true,
    recheckMs: 5 * MIN,
    sessionMs: 8 * 60 * MIN,
    now: () => clock,
  });
});
afterAll(async () => {
  await server?.close();
  await gh?.close();
});

const browser = cookieBrowser;

const signIn = async (login: string) => {
  oauth.signInAs(login);
  const b = browser();
  const r = await b.follow(`${server.url}/dashboard/`);
  return { b, r };
};

describe('sign-in with GitHub', () => {
  it('sends a stranger to GitHub with a state bound to a cookie of its own', async () => {
    const b = browser();
    const first = await b.go(`${server.url}/dashboard/r/${repoName(0)}`);
    expect(first.status).toBe(303);
    expect(first.location).toBe(`/dashboard/login?next=${encodeURIComponent(`/dashboard/r/${repoName(0)}`)}`);
    const login = await b.go(`${server.url}${first.location}`);
    const to = new URL(login.location!);
    expect(to.origin + to.pathname).toBe(`${gh.url}/login/oauth/authorize`);
    expect(to.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(to.searchParams.get('redirect_uri')).toBe(`${server.url}/dashboard/callback`);
    expect(to.searchParams.get('state')).toMatch(/^[\w-]{43}$/);
    const stateCookie = login.cookies.find((c) => c.startsWith('budget_gate_oauth_state='))!;
    expect(stateCookie).toMatch(/HttpOnly/);
    expect(stateCookie).toMatch(/Secure/);
    expect(stateCookie).toMatch(/SameSite=Lax/);
    expect(stateCookie).not.toContain(to.searchParams.get('state'));
  });

  it('refuses a callback whose state is not the one this browser was sent with', async () => {
    const b = browser();
    await b.go(`${server.url}/dashboard/login`);
    const forged = await b.go(`${server.url}/dashboard/callback?code=anything&state=forged`);
    expect(forged.status).toBe(400);
    const bare = await browser().go(`${server.url}/dashboard/callback?code=anything&state=forged`);
    expect(bare.status).toBe(400);
    expect(gh.requests.filter((r) => r.path === '/login/oauth/access_token')).toHaveLength(0);
  });

  it('shows exactly the repositories the person can read, and 404 for the others', async () => {
    const { b, r } = await signIn('alice');
    expect(r.status).toBe(200);
    const rows = [...r.text.matchAll(/<tr data-repo="([^"]+)"/g)].map((m) => m[1]).sort();
    expect(rows).toEqual([repoName(0), repoName(1), repoName(2)].sort());
    expect(r.text).toContain('@alice');
    const session = r.cookies.length === 0 ? null : r.cookies;
    expect(session).toBeNull(); // the last page sets nothing; the session was set on the callback
    expect((await b.go(`${server.url}/dashboard/r/${repoName(2)}/history`)).status).toBe(200);
    const other = await b.go(`${server.url}/dashboard/r/${repoName(3)}`);
    const missing = await b.go(`${server.url}/dashboard/r/nobody/nothing`);
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(other.text).toBe(missing.text);
    // The exchange sent the App's credentials; the token was used for the user and the installations.
    const exchange = gh.requests.find((x) => x.path === '/login/oauth/access_token')!;
    expect(exchange.method).toBe('POST');
    expect(exchange.body).toMatchObject({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    expect(gh.requests.map((x) => x.path)).toEqual(
      expect.arrayContaining([
        '/user',
        '/user/installations',
        '/user/installations/11/repositories',
        '/user/installations/12/repositories',
      ]),
    );
  });

  it('sets the session cookie HttpOnly, Secure, SameSite and expiring', async () => {
    oauth.signInAs('alice');
    const b = browser();
    const login = await b.go(`${server.url}/dashboard/login`);
    const callback = await b.go(
      login.location!.startsWith('http')
        ? (await fetch(login.location!, { redirect: 'manual' })).headers.get('location')!
        : '',
    );
    const c = callback.cookies.find((x) => x.startsWith('budget_gate_session='))!;
    expect(c).toMatch(/; HttpOnly/);
    expect(c).toMatch(/; Secure/);
    expect(c).toMatch(/; SameSite=Lax/);
    expect(Number(/Max-Age=(\d+)/.exec(c)![1])).toBe(8 * 3600);
    expect(callback.status).toBe(303);
    expect(callback.location).toBe('/dashboard/');
  });

  it('a person with no access to a repository gets 404, and loses it within the re-check', async () => {
    const { b } = await signIn('mallory');
    expect((await b.go(`${server.url}/dashboard/r/${repoName(0)}`)).status).toBe(404);
    expect((await b.go(`${server.url}/dashboard/r/${repoName(3)}`)).status).toBe(200);
    oauth.users.mallory!.installations = { 11: [] };
    clock += 4 * MIN;
    expect((await b.go(`${server.url}/dashboard/r/${repoName(3)}`)).status).toBe(200); // cached
    clock += 2 * MIN;
    expect((await b.go(`${server.url}/dashboard/r/${repoName(3)}`)).status).toBe(404);
  });

  it('sends the person back to sign in when GitHub revokes the token', async () => {
    const { b } = await signIn('alice');
    for (const t of oauth.tokens.keys()) oauth.revoked.add(t);
    clock += 6 * MIN;
    const r = await b.go(`${server.url}/dashboard/r/${repoName(0)}`);
    expect(r.status).toBe(303);
    expect(r.location).toMatch(/^\/dashboard\/login\?next=/);
    oauth.revoked.clear();
  });

  it('ends the session at its expiry', async () => {
    const { b } = await signIn('alice');
    expect((await b.go(`${server.url}/dashboard/`)).status).toBe(200);
    clock += 8 * 60 * MIN + 1;
    expect((await b.go(`${server.url}/dashboard/`)).status).toBe(303);
  });

  it("signs out only by POST with the page's CSRF token, and never by GET", async () => {
    const { b, r } = await signIn('alice');
    const csrf = /name="csrf" value="([^"]+)"/.exec(r.text)![1]!;
    expect((await b.go(`${server.url}/dashboard/logout`)).status).toBe(405);
    const forged = await b.go(`${server.url}/dashboard/logout`, {
      method: 'POST',
      body: 'csrf=guess',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(forged.status).toBe(403);
    expect((await b.go(`${server.url}/dashboard/`)).status).toBe(200);
    const out = await b.go(`${server.url}/dashboard/logout`, {
      method: 'POST',
      body: `csrf=${encodeURIComponent(csrf)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(out.status).toBe(200);
    expect(out.text).toContain('Signed out');
    expect(out.cookies.some((c) => c.startsWith('budget_gate_session=;') && c.includes('Max-Age=0'))).toBe(
      true,
    );
    expect((await b.go(`${server.url}/dashboard/`)).status).toBe(303);
    expect(
      gh.requests.some((x) => x.method === 'DELETE' && x.path === `/applications/${CLIENT_ID}/token`),
    ).toBe(true);
  });

  it('never redirects after sign-in to another site', async () => {
    const b = browser();
    for (const next of ['https://evil.example/', '//evil.example/', '/elsewhere']) {
      const login = await b.go(`${server.url}/dashboard/login?next=${encodeURIComponent(next)}`);
      const cb = (await fetch(login.location!, { redirect: 'manual' })).headers.get('location')!;
      const r = await b.go(cb);
      expect(r.location).toBe('/dashboard/');
    }
  });
});

describe('configuration', () => {
  const store = fakeFleet(1);
  it('is off without its variables and names what a half-done one lacks', () => {
    expect(dashboardFromEnv({ GITHUB_CLIENT_ID: 'a', GITHUB_CLIENT_SECRET: 'b' }, store)).toBeNull();
    expect(() =>
      dashboardFromEnv({ DASHBOARD_CALLBACK_URL: 'https://x.example/dashboard/callback' }, store),
    ).toThrow(/GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, DASHBOARD_SESSION_SECRET/);
    const env = {
      GITHUB_CLIENT_ID: 'a',
      GITHUB_CLIENT_SECRET: 'b',
      DASHBOARD_CALLBACK_URL: 'http://bot.example.com/dashboard/callback',
      DASHBOARD_SESSION_SECRET: SECRET,
    };
    expect(() => dashboardFromEnv(env, store)).toThrow(/must be https/);
    expect(() => dashboardFromEnv({ ...env, DASHBOARD_SESSION_SECRET: 'short' }, store)).toThrow(
      /at least 32/,
    );
    expect(
      dashboardFromEnv(
        { ...env, DASHBOARD_CALLBACK_URL: 'https://bot.example.com/dashboard/callback' },
        store,
      ),
    ).toBeTypeOf('function');
  });
});
