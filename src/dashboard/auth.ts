import type { IncomingMessage, ServerResponse } from 'node:http';
import { Octokit } from '@octokit/core';
import { OAuthApp } from '@octokit/oauth-app';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { GITHUB_CAPS } from '../github/octokit.ts';
import { parseReply } from '../github/reply.ts';
import { cappedFetch, networkWhy } from '../net/capped-fetch.ts';
import { html } from './html.ts';
import { layout } from './pages/layout.ts';
import type { RepoName } from './ports.ts';
import type { Access } from './server.ts';
import { sendHtml } from './server.ts';
import { cookie, randomToken, readCookies, sameToken, sealer } from './session.ts';

// Sign-in with GitHub through the App's own OAuth client (its user-to-server tokens), with
// @octokit/oauth-app doing the web flow. A person sees exactly the repositories GitHub says they
// can read through this App's installations, and a 404 for every other one; that list is asked
// again every few minutes, so revoked access ends within `recheckMs`. The session is a sealed,
// expiring, HttpOnly + Secure + SameSite cookie; logout is a POST with a CSRF token; no GET
// changes anything but the sign-in itself, whose redirect carries a one-time `state` bound to a
// cookie of its own.

export interface SignInOptions {
  clientId: string;
  clientSecret: string;
  /** The callback URL registered on the App, e.g. https://budget-gate.example.com/dashboard/callback. */
  callbackUrl: string;
  sessionSecret: string;
  /** Where the dashboard is mounted, as in dashboardHandler. */
  base: string;
  /** GitHub's REST API (default https://api.github.com; a GHES `…/api/v3`, or a stand-in in tests). */
  apiUrl?: string;
  /** How long a session lasts (default 8 h); never longer than the GitHub token behind it. */
  sessionMs?: number;
  /** How often the readable repositories are asked again (default 5 min). */
  recheckMs?: number;
  /** Secure cookies (default true). Only a loopback test server over plain HTTP may turn it off. */
  secureCookies?: boolean;
  now?: () => number;
}

interface Session {
  login: string;
  token: string;
  csrf: string;
}

interface StateCookie {
  state: string;
  next: string;
}

const SESSION_COOKIE = 'budget_gate_session';
const STATE_COOKIE = 'budget_gate_oauth_state';
const STATE_MS = 10 * 60_000;
const PAGE = 100;
/** More than this many repositories in one installation is read as "all": pagination stops here. */
const MAX_PAGES = 50;

class AccessLost extends Error {}

/** GitHub's answers, each read within the caps the Action and the bot read them with. */
const githubFetch = cappedFetch(() => globalThis.fetch, GITHUB_CAPS);

// GitHub's answers, parsed: a malformed one is a located error, never a TypeError mid-loop.
const installationsReply = z.object({ installations: z.array(z.object({ id: z.number() })) });
const repositoriesReply = z.object({ repositories: z.array(z.object({ full_name: z.string() })) });

/** The repositories a user token can read through the App's installations, by the REST API. */
async function readableRepositories(apiUrl: string, token: string): Promise<Set<RepoName>> {
  const get = async <T extends z.ZodType>(path: string, schema: T): Promise<z.output<T>> => {
    const r = await githubFetch(`${apiUrl}${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'budget-gate-dashboard',
      },
    });
    if (r.status === 401) throw new AccessLost('GitHub refused the token');
    if (!r.ok) throw new Error(`GitHub answered ${r.status} to GET ${path.split('?')[0]}`);
    const call = `GET ${path.split('?')[0]}`;
    return parseReply(schema, await r.json().catch(() => null), call);
  };
  const repos = new Set<RepoName>();
  const installations: { id: number }[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const body = await get(`/user/installations?per_page=${PAGE}&page=${page}`, installationsReply);
    installations.push(...body.installations);
    if (body.installations.length < PAGE) break;
  }
  for (const inst of installations) {
    for (let page = 1; page <= MAX_PAGES; page++) {
      const body = await get(
        `/user/installations/${inst.id}/repositories?per_page=${PAGE}&page=${page}`,
        repositoriesReply,
      );
      for (const r of body.repositories) repos.add(r.full_name);
      if (body.repositories.length < PAGE) break;
    }
  }
  return repos;
}

async function readBody(req: IncomingMessage, limit = 4096): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function githubSignIn(o: SignInOptions): Access {
  const now = o.now ?? Date.now;
  const apiUrl = (o.apiUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  const secure = o.secureCookies ?? true;
  const sessionMs = o.sessionMs ?? 8 * 3_600_000;
  const recheckMs = o.recheckMs ?? 5 * 60_000;
  const app = new OAuthApp({
    clientType: 'github-app',
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    redirectUrl: o.callbackUrl,
    baseUrl: apiUrl,
    // OAuthApp keeps `baseUrl` but builds its client without it: its requests (and the
    // authorize URL it derives from them) follow the client's, so GHES or a stand-in needs this.
    Octokit: Octokit.defaults({ baseUrl: apiUrl, userAgent: 'budget-gate-dashboard' }) as never,
  });
  const sessions = sealer(o.sessionSecret, 'session');
  const states = sealer(o.sessionSecret, 'oauth-state');
  // Per token: the readable repositories and when GitHub last said so.
  const access = new LRUCache<string, { repos: Set<RepoName>; at: number }>({ max: 10_000 });

  const clear = (name: string) => cookie(name, '', { maxAgeSeconds: 0, sameSite: 'Lax', secure });
  const redirect = (res: ServerResponse, to: string, cookies: string[] = []) => {
    res.writeHead(303, { location: to, 'set-cookie': cookies, 'cache-control': 'no-store' }).end();
  };
  /** Only a path of this dashboard: never an open redirect to another site. */
  const safeNext = (next: string | null) =>
    next &&
    (next === o.base || next.startsWith(`${o.base}/`)) &&
    !next.startsWith('//') &&
    !/[\\\r\n]/.test(next)
      ? next
      : `${o.base}/`;

  function session(req: IncomingMessage): Session | null {
    const raw = readCookies(req.headers.cookie).get(SESSION_COOKIE);
    return raw ? sessions.open<Session>(raw, now()) : null;
  }

  async function repositories(s: Session): Promise<Set<RepoName>> {
    const hit = access.get(s.token);
    if (hit && now() - hit.at < recheckMs) return hit.repos;
    const repos = await readableRepositories(apiUrl, s.token);
    access.set(s.token, { repos, at: now() });
    return repos;
  }

  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, text: string) =>
    sendHtml(
      req,
      res,
      status,
      layout(
        { base: o.base, viewer: null, capabilities: { deployments: false, history: false, note: null } },
        'Sign-in failed',
        html`<h1>Sign-in failed</h1><p>${text}</p><p><a href="${o.base}/login">Try again</a></p>`,
      ),
    );

  return {
    async route(req, res, path, url) {
      if (path === '/login' && req.method === 'GET') {
        const state = randomToken();
        const { url: to } = app.getWebFlowAuthorizationUrl({ state, redirectUrl: o.callbackUrl });
        const sealed = states.seal({ state, next: safeNext(url.searchParams.get('next')) }, now() + STATE_MS);
        redirect(res, to, [
          cookie(STATE_COOKIE, sealed, { maxAgeSeconds: STATE_MS / 1000, sameSite: 'Lax', secure }),
        ]);
        return true;
      }
      if (path === '/callback' && req.method === 'GET') {
        const raw = readCookies(req.headers.cookie).get(STATE_COOKIE);
        const expected = raw ? states.open<StateCookie>(raw, now()) : null;
        const state = url.searchParams.get('state') ?? '';
        const code = url.searchParams.get('code');
        // The state must be the one this browser was sent off with: a callback forged by another
        // site (login CSRF) has no matching cookie.
        if (!expected || !code || !sameToken(state, expected.state)) {
          res.setHeader('set-cookie', clear(STATE_COOKIE));
          refuse(req, res, 400, 'The sign-in link expired or did not start here.');
          return true;
        }
        let token: string;
        let login: string;
        let tokenExpires: number | null = null;
        try {
          const { authentication } = await app.createToken({ code, redirectUrl: o.callbackUrl });
          const a = authentication as { token: string; expiresAt?: string };
          token = a.token;
          if (a.expiresAt) tokenExpires = Date.parse(a.expiresAt);
          const r = await githubFetch(`${apiUrl}/user`, {
            headers: {
              authorization: `Bearer ${token}`,
              accept: 'application/vnd.github+json',
              'user-agent': 'budget-gate-dashboard',
            },
          });
          if (!r.ok) throw new Error(`GitHub answered ${r.status} to GET /user`);
          login = ((await r.json()) as { login: string }).login;
        } catch (e) {
          res.setHeader('set-cookie', clear(STATE_COOKIE));
          refuse(req, res, 502, `GitHub did not complete the sign-in: ${networkWhy(e)}`);
          return true;
        }
        const expires = Math.min(now() + sessionMs, tokenExpires ?? Number.POSITIVE_INFINITY);
        const sealed = sessions.seal({ login, token, csrf: randomToken() } satisfies Session, expires);
        redirect(res, expected.next, [
          clear(STATE_COOKIE),
          cookie(SESSION_COOKIE, sealed, {
            maxAgeSeconds: (expires - now()) / 1000,
            sameSite: 'Lax',
            secure,
          }),
        ]);
        return true;
      }
      if (path === '/logout') {
        if (req.method !== 'POST') {
          res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('sign out with POST\n');
          return true;
        }
        const s = session(req);
        let csrf = '';
        try {
          csrf = new URLSearchParams(await readBody(req)).get('csrf') ?? '';
        } catch {
          csrf = '';
        }
        if (!s || !sameToken(csrf, s.csrf)) {
          res
            .writeHead(403, { 'content-type': 'text/plain' })
            .end('sign-out refused: the form did not come from this dashboard\n');
          return true;
        }
        access.delete(s.token);
        // Revoking the token too is good manners; a failure must not keep the person signed in.
        await app.deleteToken({ token: s.token }).catch(() => undefined);
        // A page, not a redirect to the dashboard: that would start a new sign-in at once, and
        // GitHub, remembering the approval, would sign the person straight back in.
        res.setHeader('set-cookie', clear(SESSION_COOKIE));
        sendHtml(
          req,
          res,
          200,
          layout(
            { base: o.base, viewer: null, capabilities: { deployments: false, history: false, note: null } },
            'Signed out',
            html`<h1>Signed out</h1><p><a href="${o.base}/">Sign in again</a></p>`,
          ),
        );
        return true;
      }
      return false;
    },

    async viewer(req, res, url) {
      const s = session(req);
      const toLogin = () =>
        redirect(res, `${o.base}/login?next=${encodeURIComponent(url.pathname + url.search)}`, [
          clear(SESSION_COOKIE),
        ]);
      if (!s) {
        toLogin();
        return null;
      }
      let repos: Set<RepoName>;
      try {
        repos = await repositories(s);
      } catch (e) {
        if (e instanceof AccessLost) {
          toLogin();
          return null;
        }
        throw e;
      }
      return { viewer: { login: s.login, csrf: s.csrf }, canRead: (repo) => repos.has(repo) };
    },
  };
}
