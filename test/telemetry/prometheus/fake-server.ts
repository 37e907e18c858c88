import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach } from 'vitest';
import { listenLoopback } from '../../support/ports.ts';

// A stand-in for a metrics server that misbehaves on purpose: it records what each request
// carried and answers however the test says.

export interface Seen {
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

export async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, n: number) => void,
): Promise<FakeServer> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      handler(req, res, seen.length);
    });
  });
  return { ...(await listenLoopback(server)), seen };
}

/** `serve` for a test file: every server a test starts is closed after it. */
export function servedPerTest(): typeof serve {
  const open: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async (handler) => {
    const s = await serve(handler);
    open.push(s);
    return s;
  };
}

/** The PromQL a request carried. */
export const queryOf = (s: Seen): string => new URLSearchParams(s.body).get('query') ?? '';

/**
 * A successful answer: every sub-query the batch names, with the given value; a freshness probe
 * (the newest sample's timestamp()) answers the evaluation time, as a live scrape would.
 */
export function answer(s: Seen, value: string, time: number): string {
  const parts = queryOf(s).split(' or\n');
  const result = parts.flatMap((part) => {
    const id = /"bg_key", "(q\d+)"/.exec(part)?.[1];
    if (!id) return [];
    const v = part.includes('max_over_time(timestamp(') ? String(time / 1000) : value;
    return [{ metric: { bg_key: id }, value: [time / 1000, v] }];
  });
  return JSON.stringify({ status: 'success', data: { resultType: 'vector', result } });
}
