import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeFailure } from '../../src/action/event.ts';
import { createOctokit } from '../../src/github/octokit.ts';
import { parseReply } from '../../src/github/reply.ts';

// GitHub answered by a loopback stand-in that answers badly: too much, forever, garbage, escape
// sequences and forged lines, or nothing at all. Every answer is read within a cap while it
// streams in (src/net/capped-fetch.ts); what reaches a message is one clean line; a request that
// got no answer says so, with the host, never "GitHub answered 500".

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_req, res) => res.end('{}');
let server: Server;
let base = '';
/** Bytes the server managed to write before the client hung up, for the last streamed answer. */
let written = 0;

beforeAll(async () => {
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const MiB = 1 << 20;
const gh = (caps = {}) =>
  createOctokit({
    token: 'ghs_test',
    baseUrl: base,
    retries: 0,
    retryBaseMs: 1,
    caps: { maxBytes: 4 * MiB, ...caps },
  });

/** Streams `total` bytes of `chunk` until done or the client goes away. */
function stream(res: ServerResponse, chunk: Buffer, total: number): void {
  written = 0;
  const pump = () => {
    while (written < total) {
      written += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => {});
  pump();
}

const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

describe('GitHub answers, capped while they stream in', () => {
  it('a success answer past the cap is refused at the cap, the connection dropped, the host named', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      stream(res, Buffer.alloc(64 << 10, 0x20), 64 * MiB);
    };
    const e = await failureOf(gh().request('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' }));
    const line = describeFailure(e);
    expect(line).toMatch(
      /^no usable answer from GitHub at 127\.0\.0\.1:\d+ to GET \/repos\/o\/r \(GitHub at 127\.0\.0\.1:\d+ answered with more than the 4194304 bytes budget-gate reads\): check GITHUB_API_URL/,
    );
    expect(line).not.toMatch(/GitHub answered 500|pull-requests/);
    // The client hung up near the cap, not after the 64 MiB the server had to send.
    expect(written).toBeLessThan(16 * MiB);
  });

  it('a declared length past the cap is refused before the body is read', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 * MiB) });
      stream(res, Buffer.alloc(64 << 10, 0x20), 64 * MiB);
    };
    const line = describeFailure(await failureOf(gh().request('GET /user')));
    expect(line).toContain(`answered with ${64 * MiB} bytes, more than the 4194304 budget-gate reads`);
  });

  it('a gzip bomb stops at the cap after decompression', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MiB, 0x20));
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    };
    const before = process.memoryUsage().rss;
    const line = describeFailure(await failureOf(gh().request('GET /user')));
    expect(line).toContain('answered with more than the 4194304 bytes budget-gate reads');
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * MiB);
  });

  it('an error page is cut at 64 KiB and cleaned: the status still counts, no escape or forged line reaches the message', async () => {
    handler = (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      stream(res, Buffer.from('\u001b[31mNOT FOUND\r\n::error::forged\u202e\n'), 8 * MiB);
    };
    const e = (await failureOf(
      gh().request('GET /repos/{owner}/{repo}/pulls', { owner: 'o', repo: 'r' }),
    )) as {
      status: number;
      message: string;
    };
    expect(e.status).toBe(404);
    expect(e.message.length).toBeLessThan(5000);
    const line = describeFailure(e);
    expect(line).toMatch(
      /^GitHub answered 404 to GET \/repos\/o\/r\/pulls \(\[31mNOT FOUND ::error::forged \[31mNOT/,
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not be left
    expect(line).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
    expect(written).toBeLessThan(4 * MiB);
  });

  it("GitHub's JSON error message with escapes and line breaks becomes one clean line", async () => {
    handler = (_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ message: 'Resource not accessible\u001b[2J\r\n::error::you have been pwned' }),
      );
    };
    // The refusals hook (createOctokit registers it) classifies the 403 on its way out.
    const r = (await failureOf(
      gh().request('POST /repos/{owner}/{repo}/check-runs', {
        owner: 'o',
        repo: 'r',
        name: 'n',
        head_sha: 'f',
      }),
    )) as Error;
    expect(r.message).toContain('(403 Resource not accessible[2J ::error::you have been pwned)');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not be left
    expect(r.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it('garbage where JSON was promised is a located error naming the call, not a TypeError later', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>a proxy login page</html>');
    };
    const { data } = await gh().request('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' });
    expect(() => parseReply(z.object({ full_name: z.string() }), data, 'GET /repos/o/r')).toThrow(
      /GitHub's answer to GET \/repos\/o\/r has no usable `\(root\)`/,
    );
  });

  it('a server that never finishes answering is no answer, within the time limit', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":');
    };
    const started = Date.now();
    const line = describeFailure(await failureOf(gh({ timeoutMs: 300 }).request('GET /user')));
    expect(line).toMatch(
      /^no usable answer from GitHub at 127\.0\.0\.1:\d+ to GET \/user \(no answer in time\)/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('nothing listening: the host and what failed, never "GitHub answered 500 … the token may need"', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const octokit = createOctokit({ token: 'ghs_test', baseUrl: `http://127.0.0.1:${port}`, retries: 0 });
    const e = await failureOf(
      octokit.request('GET /repos/{owner}/{repo}/pulls/{n}', { owner: 'o', repo: 'r', n: 1 }),
    );
    const line = describeFailure(e);
    expect(line).toBe(
      `no usable answer from GitHub at 127.0.0.1:${port} to GET /repos/o/r/pulls/1 (ECONNREFUSED: nothing listens there): check GITHUB_API_URL, the runner's network and proxy (HTTPS_PROXY), and https://www.githubstatus.com`,
    );
  });
});
