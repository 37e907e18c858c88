import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { freePort } from './ports.ts';

// GitHub's REST API played by a local HTTP server, for processes nock cannot reach (the built
// action run as the runner runs it). Routes are exact `METHOD /path`; anything else is a 404 that
// the test sees in `unmatched`.

export interface Recorded {
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text of any other body (a form, for a Prometheus played here). */
  body: any;
}

export type Route = (req: Recorded) => [number, unknown];

export interface FakeGitHub {
  url: string;
  requests: Recorded[];
  unmatched: Recorded[];
  route(method: string, path: string, handler: Route | [number, unknown]): void;
  close(): Promise<void>;
}

export async function startGitHub(): Promise<FakeGitHub> {
  const routes = new Map<string, Route>();
  const requests: Recorded[] = [];
  const unmatched: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => {
      raw += d;
    });
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const rec: Recorded = {
        method: req.method ?? 'GET',
        path: u.pathname,
        query: u.search,
        headers: req.headers,
        body: raw && /json/.test(req.headers['content-type'] ?? '') ? JSON.parse(raw) : raw || null,
      };
      requests.push(rec);
      const handler = routes.get(`${rec.method} ${rec.path}`);
      if (!handler) unmatched.push(rec);
      const [status, body] = handler ? handler(rec) : [404, { message: 'Not Found' }];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    unmatched,
    route(method, path, handler) {
      routes.set(`${method} ${path}`, Array.isArray(handler) ? () => handler : handler);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
