import { createHmac, generateKeyPairSync } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import examples from '@octokit/webhooks-examples';
import { Probot, ProbotOctokit } from 'probot';
import { afterEach, describe, expect, it } from 'vitest';
import { budgetGateApp } from '../../src/bot/app.ts';
import { type BotServer, createBotServer } from '../../src/bot/server.ts';
import { GITHUB_MAX_PAYLOAD_BYTES, type GuardLimits } from '../../src/bot/webhook-guard.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';

// Not support.ts: it loads nock, which holds a request's body until the request ends, and these
// senders must stream theirs.
const T0 = Date.parse('2026-03-02T12:00:00Z');
function labeledExample(): { label: { name: string } } {
  const family = (examples as unknown as { name: string; examples: Record<string, unknown>[] }[]).find(
    (e) => e.name === 'pull_request',
  )!;
  return structuredClone(family.examples.find((e) => e.action === 'labeled' && !e.organization)!) as never;
}

// Issue 20, attempt 9: the webhook endpoint, as a real HTTP server (the bot's own, server.ts),
// fed bodies the way an attacker would send them. What is asserted is the server's answers and the
// guard's counters of unverified bytes held — never time.

const SECRET = 'webhook-secret-for-tests';
const PATH = '/api/github/webhooks';
const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

let running: { bot: BotServer; url: string; store: SqliteWatchStore } | null = null;
afterEach(async () => {
  if (!running) return;
  running.bot.server.closeAllConnections();
  await new Promise((r) => running!.bot.server.close(r));
  running = null;
});

async function start(limits?: Partial<GuardLimits>) {
  const store = new SqliteWatchStore(':memory:');
  const probot = new Probot({
    appId: 1,
    privateKey,
    secret: SECRET,
    logLevel: 'fatal',
    Octokit: ProbotOctokit.defaults((o: Record<string, unknown>) => ({ ...o, retry: { enabled: false } })),
  });
  const bot = await createBotServer({
    probot,
    app: budgetGateApp({
      store,
      source: new JsonlSource({ path: '/unused.jsonl' }),
      clock: () => T0,
      policyPath: '.github/error-budget.yml',
    }),
    secret: SECRET,
    ...(limits ? { limits } : {}),
    log: { info: () => {}, warn: () => {}, error: () => {} },
  });
  await new Promise<void>((r) => bot.server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(bot.server.address() as AddressInfo).port}`;
  running = { bot, url, store };
  return running;
}

const sign = (body: Buffer) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

/**
 * POSTs `total` bytes in `chunk`-sized writes (or `body` whole), stopping as soon as the server
 * answers; the server may cut the connection after its answer, which is then what counts.
 */
function post(
  url: string,
  o: {
    total?: number;
    chunk?: number;
    body?: Buffer;
    signature?: string;
    declareLength?: boolean;
    id?: string;
    event?: string;
    /** The body's last byte waits for this (a sender holding its request open). */
    endAfter?: Promise<void>;
  },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const total = o.body?.length ?? o.total ?? 0;
    const req = request(`${url}${PATH}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': o.event ?? 'pull_request',
        'x-github-delivery': o.id ?? 'delivery-1',
        'x-hub-signature-256': o.signature ?? `sha256=${'0'.repeat(64)}`,
        ...(o.declareLength === false ? {} : { 'content-length': String(total) }),
      },
    });
    let answered: number | null = null;
    req.on('response', (res) => {
      answered = res.statusCode ?? 0;
      res.resume();
      res.on('end', () => resolve(answered!));
    });
    req.on('error', (e) => (answered !== null ? resolve(answered) : reject(e)));
    if (o.body) {
      req.end(o.body);
      return;
    }
    const size = o.chunk ?? 64 * 1024;
    const block = Buffer.alloc(size, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < total && answered === null) {
        const n = Math.min(size, total - sent);
        sent += n;
        if (!req.write(n === size ? block : block.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      if (answered !== null) return;
      if (o.endAfter) void o.endAfter.then(() => answered === null && req.end());
      else req.end();
    };
    pump();
  });
}

describe('the webhook endpoint (issue 20, attempt 9)', () => {
  it('answers 413 to a 30 MB body that says its length, without reading a byte of it', async () => {
    const { url, bot } = await start();
    expect(await post(url, { total: 30 * 1024 * 1024 })).toBe(413);
    expect(bot.guard.stats()).toMatchObject({ tooLarge: 1, peakInFlightBytes: 0, inFlightBytes: 0 });
  });

  it('answers 413 to a 30 MB chunked body once it passes 25 MB, having held no more than that', async () => {
    const { url, bot } = await start();
    const chunk = 256 * 1024;
    expect(await post(url, { total: 30 * 1024 * 1024, chunk, declareLength: false })).toBe(413);
    const s = bot.guard.stats();
    expect(s.tooLarge).toBe(1);
    expect(s.peakInFlightBytes).toBeLessThanOrEqual(GITHUB_MAX_PAYLOAD_BYTES);
    expect(s.inFlightBytes).toBe(0);
  });

  it('many concurrent large unsigned bodies: 503 once the in-flight budget is spent, 401 for the rest, never more held', async () => {
    // Scaled down (1 MB bodies, a 3 MB budget) so twelve senders overrun it on a shared machine.
    const limits = { maxBodyBytes: 1024 * 1024, maxInFlightBytes: 3 * 1024 * 1024 };
    const body = 1000 * 1024;
    const senders = 12;
    const { url, bot } = await start(limits);
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const answers = Array.from({ length: senders }, (_, i) =>
      post(url, { total: body, chunk: 16 * 1024, declareLength: false, id: `flood-${i}`, endAfter: held }),
    );
    // Every sender has sent all but the end of its body: each is either refused or held whole.
    for (;;) {
      const s = bot.guard.stats();
      if (s.busy + s.inFlightBytes / body === senders) break;
      await new Promise((r) => setImmediate(r));
    }
    const whole = bot.guard.stats().inFlightBytes / body;
    expect(whole).toBeLessThanOrEqual(Math.floor(limits.maxInFlightBytes / body));
    release();
    const got = await Promise.all(answers);
    const s = bot.guard.stats();
    expect(got.filter((a) => a === 503)).toHaveLength(senders - whole);
    expect(got.filter((a) => a === 401)).toHaveLength(whole);
    expect(s).toMatchObject({ busy: senders - whole, badSignature: whole, accepted: 0, inFlightBytes: 0 });
    expect(s.peakInFlightBytes).toBeLessThanOrEqual(limits.maxInFlightBytes);
  });

  it('refuses a wrong signature before anything parses the body (401), and takes a signed one (200)', async () => {
    const { url, bot, store } = await start();
    const payload = labeledExample();
    payload.label.name = 'bug';
    const body = Buffer.from(JSON.stringify(payload));
    // Not even JSON: a parser would fail first; the signature check answers before one runs.
    expect(await post(url, { body: Buffer.from('{"not json'), id: 'forged' })).toBe(401);
    expect(await post(url, { body, signature: sign(body), id: 'signed' })).toBe(200);
    expect(bot.guard.stats()).toMatchObject({ badSignature: 1, accepted: 1, inFlightBytes: 0 });
    // The label handler ran to completion (a label that is not an override: nothing to do), so
    // the delivery is recorded as handled; the forged one never reached a handler.
    expect(await store.handledDeliveries(0)).toEqual(new Set(['signed']));
  });
});
