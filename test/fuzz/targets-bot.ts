import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { Probot, ProbotOctokit } from 'probot';
import { budgetGateApp } from '../../src/bot/app.ts';
import { LastAttempts, storeProbe } from '../../src/bot/health.ts';
import { BotMetrics } from '../../src/bot/metrics.ts';
import { type BotServer, createBotServer } from '../../src/bot/server.ts';
import { opsHandler } from '../../src/bot/service.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { count, examples, mutate, mutation } from './targets.ts';

// The bot's endpoints, as an attacker reaches them: the webhook (signed or not, any event, any
// body), /healthz and /metrics, any method and path. GitHub is a loopback stand-in answering
// garbage, escapes and oversized bodies, so a signed delivery that reaches a handler meets it.
// Properties: no answer is a 5xx but /healthz's 503; /healthz is JSON whose status says its `ok`
// and whose errors are clean lines; /metrics is Prometheus text; the server answers after each.

const SECRET = 'fuzz-webhook-secret';
const PATH = '/api/github/webhooks';
let bot: BotServer | null = null;
let github: Server | null = null;
let url = '';

export async function startBot(): Promise<void> {
  github = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"message":"\u001b[31mgarbage\r\n::error::forged"');
  });
  await new Promise<void>((r) => github!.listen(0, '127.0.0.1', r));
  const ghUrl = `http://127.0.0.1:${(github.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const store = new SqliteWatchStore(':memory:');
  const metrics = new BotMetrics();
  const attempts = new LastAttempts();
  attempts.record('github', false, 'GitHub answered \u001b[2J503\r\nforged');
  const probot = new Probot({
    appId: 1,
    privateKey,
    secret: SECRET,
    baseUrl: ghUrl,
    logLevel: 'fatal',
    Octokit: ProbotOctokit.defaults((o: Record<string, unknown>) => ({ ...o, retry: { enabled: false } })),
  });
  const deps = {
    store,
    source: new JsonlSource({ path: '/nonexistent/fuzz.jsonl' }),
    clock: () => Date.parse('2026-11-20T09:00:00Z'),
    policyPath: '.github/error-budget.yml',
  };
  bot = await createBotServer({
    probot,
    app: async (app, opts) => {
      await budgetGateApp(deps)(app, opts);
      opts.addHandler(
        opsHandler(metrics, {
          store: storeProbe(store),
          telemetry: async () => {
            throw new Error('cannot read /nonexistent/fuzz.jsonl\u001b[0m\r\n::error::forged');
          },
          github: attempts.probe('github'),
        }),
      );
    },
    secret: SECRET,
    log: { info: () => {}, warn: () => {}, error: () => {} },
  });
  await new Promise<void>((r) => bot!.server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(bot.server.address() as AddressInfo).port}`;
}

export async function stopBot(): Promise<void> {
  bot?.server.closeAllConnections();
  await new Promise((r) => bot?.server.close(r));
  await new Promise((r) => github?.close(r));
}

interface Answer {
  status: number;
  type: string;
  body: string;
}

function send(o: {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${o.path}`, { method: o.method, headers: o.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', (e: NodeJS.ErrnoException) => {
      // A server may answer and close before reading a body it does not want (a GET's, a refused
      // delivery's): the client then sees the reset while still writing. Not a failure of the server.
      if (o.body && (e.code === 'ECONNRESET' || e.code === 'EPIPE'))
        resolve({ status: 0, type: '', body: '' });
      else reject(e);
    });
    req.end(o.body ?? undefined);
  });
}

const EVENTS = [
  'pull_request',
  'deployment_status',
  'deployment_protection_rule',
  'push',
  'issues',
  'issue_comment',
  'installation',
  'ping',
  '',
];
const families = examples as Array<{ name: string; examples: unknown[] }>;
const exampleOf = (name: string, i: number) => {
  const f = families.find((e) => e.name === name) ?? families[0]!;
  return f.examples[i % f.examples.length];
};

const requestArb = fc.record({
  method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'POST', 'POST', 'PUT', 'HEAD', 'OPTIONS', 'DELETE'),
  path: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('/healthz', '/metrics', PATH, PATH) },
    fc.constantFrom(
      '/healthz',
      '/metrics',
      PATH,
      PATH,
      PATH,
      '/healthz?x=1',
      '//healthz',
      '/metrics/../healthz',
      '/',
      '/api/github/webhooks/',
      `/${'a'.repeat(5000)}`,
      '/%00',
      '/%zz',
    ),
    fc.webPath(),
  ),
  event: fc.constantFrom(...EVENTS),
  pick: fc.nat(),
  ms: fc.array(mutation, { maxLength: 3 }),
  body: fc.constantFrom('example', 'example', 'garbage', 'empty', 'huge-json'),
  sign: fc.constantFrom('valid', 'valid', 'wrong', 'none', 'malformed'),
  contentType: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', ''),
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not be left
const CONTROL = /[\u0000-\u001f\u007f\u202e]/;
/** A Prometheus text-format sample line (comments and blank lines aside; Go reads NaN in any case). */
const SAMPLE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^\n]*\})? (?:[-+]?[0-9.]+(?:e[-+]?\d+)?|nan|[-+]inf)(?: -?\d+)?$/i;

export const botTarget = fc.asyncProperty(requestArb, async (q) => {
  const event = q.event || 'pull_request';
  const body: Buffer | null =
    q.body === 'empty'
      ? null
      : q.body === 'garbage'
        ? Buffer.from('{"action":\u0000 \u001b[31m')
        : q.body === 'huge-json'
          ? Buffer.from(JSON.stringify({ action: 'x', pad: 'a'.repeat(200_000) }))
          : Buffer.from(
              JSON.stringify(
                mutate(
                  exampleOf(
                    event === 'deployment_protection_rule' ? 'deployment_protection_rule' : event,
                    q.pick,
                  ),
                  q.ms,
                ),
              ),
            );
  const signature =
    q.sign === 'valid'
      ? `sha256=${createHmac('sha256', SECRET)
          .update(body ?? Buffer.alloc(0))
          .digest('hex')}`
      : q.sign === 'wrong'
        ? `sha256=${'0'.repeat(64)}`
        : q.sign === 'malformed'
          ? 'sha1=\u00ff'.replace('\u00ff', 'x')
          : null;
  const headers: Record<string, string> = {
    'x-github-event': event,
    'x-github-delivery': `fuzz-${q.pick}`,
    ...(q.contentType ? { 'content-type': q.contentType } : {}),
    ...(signature ? { 'x-hub-signature-256': signature } : {}),
  };
  const a = await send({ method: q.method, path: q.path, headers, body });
  count(
    `${q.path === PATH ? 'webhook' : ['/healthz', '/metrics'].includes(q.path) ? q.path : 'other'}:${a.status}`,
  );
  if (a.status === 0) return;
  const fail = (what: string) => {
    throw new Error(`${what}: ${q.method} ${q.path.slice(0, 80)} → ${a.status} ${a.body.slice(0, 500)}`);
  };
  // The path as the server reads it (`/metrics/../healthz` is /healthz).
  let pathname = '';
  try {
    pathname = new URL(q.path, 'http://x').pathname;
  } catch {}
  const healthz = q.method === 'GET' && pathname === '/healthz';
  if (a.status >= 500 && !(healthz && a.status === 503)) fail('a 5xx: the server failed, or a handler threw');
  if (healthz && (a.status === 200 || a.status === 503)) {
    const h = JSON.parse(a.body) as { ok: boolean; checks: Record<string, { ok: boolean; error?: string }> };
    if ((a.status === 200) !== h.ok) fail('/healthz: the status and ok disagree');
    for (const c of Object.values(h.checks))
      if (c.error !== undefined && CONTROL.test(c.error)) fail('/healthz: an error with control characters');
  }
  if (q.method === 'GET' && pathname === '/metrics' && a.status === 200) {
    for (const line of a.body.split('\n'))
      if (line && !line.startsWith('#') && !SAMPLE.test(line)) fail(`/metrics: not Prometheus text: ${line}`);
  }
  // The server still answers after whatever this was.
  const after = await send({ method: 'GET', path: '/metrics', headers: {}, body: null });
  if (after.status !== 200) fail('the server stopped answering /metrics');
});
