import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// GitHub's REST API played by a local HTTP server, for processes nock cannot reach (the built
// action run as the runner runs it, the bot run as `npm run bot`). Routes are `METHOD /path`, exact
// or with `:name` segments; anything else is a 404 that the test sees in `unmatched`. GitHub
// Enterprise paths (`/api/v3/…`, `/api/graphql`, what Probot calls with GHE_HOST) are served as
// github.com's. An interceptor sees each request after its route ran and may hold the answer back
// forever: that is how a test kills the client at exactly its k-th request, after GitHub acted.

export interface Recorded {
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text of any other body (a form, for a Prometheus played here). */
  body: any;
  /** The `:name` segments of the route that matched. */
  params: Record<string, string>;
}

export type Reply = [number, unknown] | [number, unknown, Record<string, string>];
type Route = (req: Recorded) => Reply;

/** After the route ran: `hold` never answers (the test kills the client meanwhile). */
type Interceptor = (req: Recorded, index: number) => 'answer' | 'hold';

export interface FakeGitHub {
  url: string;
  requests: Recorded[];
  unmatched: Recorded[];
  route(method: string, path: string, handler: Route | Reply): void;
  intercept(fn: Interceptor | null): void;
  close(): Promise<void>;
}

interface Pattern {
  method: string;
  parts: string[];
  handler: Route;
}

function match(p: Pattern, method: string, path: string): Record<string, string> | null {
  if (p.method !== method) return null;
  const parts = path.split('/');
  if (parts.length !== p.parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const want = p.parts[i]!;
    if (want.startsWith(':')) params[want.slice(1)] = decodeURIComponent(parts[i]!);
    else if (want !== parts[i]) return null;
  }
  return params;
}

const GHES = (path: string) =>
  path === '/api/graphql' ? '/graphql' : path.startsWith('/api/v3/') ? path.slice('/api/v3'.length) : path;

export async function startGitHub(): Promise<FakeGitHub> {
  const routes: Pattern[] = [];
  const requests: Recorded[] = [];
  const unmatched: Recorded[] = [];
  const held: ServerResponse[] = [];
  let interceptor: Interceptor | null = null;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => {
      raw += d;
    });
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const rec: Recorded = {
        method: req.method ?? 'GET',
        path: GHES(u.pathname),
        query: u.search,
        headers: req.headers,
        body: raw && /json/.test(req.headers['content-type'] ?? '') ? JSON.parse(raw) : raw || null,
        params: {},
      };
      requests.push(rec);
      // Later routes win, so a test can override one route of a model.
      let reply: Reply = [404, { message: 'Not Found' }];
      let found = false;
      for (let i = routes.length - 1; i >= 0; i--) {
        const params = match(routes[i]!, rec.method, rec.path);
        if (params) {
          rec.params = params;
          reply = routes[i]!.handler(rec);
          found = true;
          break;
        }
      }
      if (!found) unmatched.push(rec);
      if (interceptor?.(rec, requests.length) === 'hold') {
        held.push(res);
        return;
      }
      res.writeHead(reply[0], { 'content-type': 'application/json', ...(reply[2] ?? {}) });
      res.end(JSON.stringify(reply[1]));
    });
  });
  // Port 0: the kernel picks a free port at bind time, so no other process can take it first.
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    unmatched,
    route(method, path, handler) {
      routes.push({
        method,
        parts: path.split('/'),
        handler: Array.isArray(handler) ? () => handler : handler,
      });
    },
    intercept(fn) {
      interceptor = fn;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
