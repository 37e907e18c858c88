import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOCAL_TIME_SCRIPT, STYLESHEET } from './assets.ts';
import { type Html, html } from './html.ts';
import { deploymentsPage } from './pages/deployments.ts';
import { fleetPage, readSort } from './pages/fleet.ts';
import { historyPage } from './pages/history.ts';
import { layout, type PageContext, type Viewer } from './pages/layout.ts';
import { oncallPage } from './pages/oncall.ts';
import { repositoryPage } from './pages/repository.ts';
import type { DashboardStore, RepoName } from './ports.ts';

// The dashboard as one request handler on node:http, mountable under a path of any server (the
// bot's, or the CLI's own): it answers the requests under its base and says false for the rest.
// Only GET and HEAD read pages; nothing a GET does changes anything. A repository the viewer may
// not read gets the same 404 as one that does not exist, so the answer says nothing about it.

/** Who is asking and what they may read; null when the access layer already answered (a redirect). */
export interface Access {
  /** Sign-in routes of its own (login, callback, logout), tried first; true when it answered. */
  route(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<boolean>;
  viewer(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<{ viewer: Viewer | null; canRead: (repo: RepoName) => boolean } | null>;
}

/** Local mode: one person on their own machine, no sign-in. */
export const OPEN_ACCESS: Access = {
  route: async () => false,
  viewer: async () => ({ viewer: null, canRead: () => true }),
};

export interface DashboardOptions {
  store: DashboardStore;
  access: Access;
  /** Mount point: '' for the whole server, '/dashboard' under the bot. No trailing slash. */
  base?: string;
}

const SECURITY_HEADERS = {
  // The SVG charts carry presentation in style attributes; nothing else inline is allowed.
  'content-security-policy':
    "default-src 'none'; style-src 'self'; style-src-attr 'unsafe-inline'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
} as const;

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
) {
  const bytes = Buffer.from(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': String(bytes.length),
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

export const sendHtml = (req: IncomingMessage, res: ServerResponse, status: number, page: Html) =>
  send(req, res, status, 'text/html; charset=utf-8', page.value, { 'cache-control': 'no-store' });

const NOT_FOUND = (ctx: PageContext) =>
  layout(ctx, 'Not found', html`<h1>Not found</h1><p>There is no such page, or you cannot read it.</p>`);

type RepoTab = 'deployments' | 'history' | 'oncall';

export function dashboardHandler(
  opts: DashboardOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const base = opts.base ?? '';
  const { store, access } = opts;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return false;
    const path = url.pathname.slice(base.length) || '/';

    if (path === '/assets/dashboard.css' || path === '/assets/local-time.js') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(req, res);
      const css = path.endsWith('.css');
      send(
        req,
        res,
        200,
        css ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
        css ? STYLESHEET : LOCAL_TIME_SCRIPT,
        {
          'cache-control': 'public, max-age=300',
        },
      );
      return true;
    }
    if (await access.route(req, res, path, url)) return true;
    if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(req, res);

    const who = await access.viewer(req, res, url);
    if (!who) return true;
    const ctx: PageContext = { base, viewer: who.viewer, capabilities: store.capabilities };

    if (path === '/') {
      const rows = (await store.fleet()).filter((r) => who.canRead(r.repo));
      sendHtml(req, res, 200, fleetPage(ctx, rows, readSort(url.searchParams)));
      return true;
    }
    const m = /^\/r\/([^/]+)\/([^/]+)(?:\/(deployments|history|oncall))?\/?$/.exec(path);
    if (!m) {
      sendHtml(req, res, 404, NOT_FOUND(ctx));
      return true;
    }
    let repo: RepoName;
    try {
      repo = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
    } catch {
      sendHtml(req, res, 404, NOT_FOUND(ctx));
      return true;
    }
    // Asked before the store is: a repository the viewer cannot read is never looked up.
    if (!who.canRead(repo)) {
      sendHtml(req, res, 404, NOT_FOUND(ctx));
      return true;
    }
    const page = await repoPage(ctx, store, repo, m[3] as RepoTab | undefined);
    sendHtml(req, res, page ? 200 : 404, page ?? NOT_FOUND(ctx));
    return true;
  };
}

async function repoPage(
  ctx: PageContext,
  store: DashboardStore,
  repo: RepoName,
  tab: RepoTab | undefined,
): Promise<Html | null> {
  switch (tab) {
    case undefined: {
      const v = await store.repository(repo);
      return v && repositoryPage(ctx, v);
    }
    case 'deployments': {
      if (!store.capabilities.deployments) return unavailable(ctx, store, repo);
      const w = await store.deployments(repo);
      return w && deploymentsPage(ctx, repo, w);
    }
    case 'history': {
      if (!store.capabilities.history) return unavailable(ctx, store, repo);
      const h = await store.history(repo);
      return h && historyPage(ctx, repo, h);
    }
    case 'oncall': {
      const o = await store.oncall(repo);
      return o && oncallPage(ctx, repo, o);
    }
  }
}

async function unavailable(ctx: PageContext, store: DashboardStore, repo: RepoName): Promise<Html | null> {
  if (!(await store.repository(repo))) return null;
  return layout(
    ctx,
    repo,
    html`<h1>${repo}</h1><p class="note">${ctx.capabilities.note ?? 'This page has nothing to show here.'}</p>`,
  );
}

function methodNotAllowed(req: IncomingMessage, res: ServerResponse): true {
  send(req, res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
  return true;
}
