import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { decide } from '../../../src/policy/gate/decide.ts';
import { planRequest } from '../../../src/policy/gate/plan.ts';
import { loadPolicy } from '../../../src/policy/spec/load.ts';
import type { TelemetryError } from '../../../src/telemetry/errors.ts';
import { MAX_BODY_BYTES } from '../../../src/telemetry/prometheus/answer.ts';
import { createPrometheusSource } from '../../../src/telemetry/prometheus/index.ts';
import { PROM_AT, prometheusPolicy } from '../../support/policies.ts';
import { type FakeServer, serve as fakeServer, queryOf } from './fake-server.ts';

// A metrics server that answers badly on purpose: every answer is checked against the API's
// schema, impossible numbers are errors, and a huge or compressed-huge body stops at the cap.

const AT = PROM_AT;
const { policy } = loadPolicy(prometheusPolicy(), 'p.yml');
const request = planRequest(policy, AT);

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Answers every request with `body(ids)`, where ids are the request's sub-query keys. */
async function answering(
  body: (ids: string[]) => unknown,
  headers: Record<string, string> = {},
): Promise<string> {
  const s: FakeServer = await fakeServer((_req, res) => {
    const ids = [...queryOf(s.seen.at(-1)!).matchAll(/"bg_key", "(q\d+)"/g)].map((m) => m[1]!);
    const b = body(ids);
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(typeof b === 'string' || Buffer.isBuffer(b) ? b : JSON.stringify(b));
  });
  servers.push(s);
  return s.url;
}

async function failure(url: string): Promise<TelemetryError> {
  return (await createPrometheusSource({ url, retries: 0 })
    .fetch(request)
    .then(
      () => {
        throw new Error('expected the fetch to fail');
      },
      (e: unknown) => e,
    )) as TelemetryError;
}

const vector = (result: unknown, extra: object = {}) => ({
  status: 'success',
  data: { resultType: 'vector', result },
  ...extra,
});

describe('a metrics server that answers badly', () => {
  it.each([
    ['a vector with a null element', () => vector([null]), /data\.result\[0\]/],
    [
      'a sample without value',
      (ids: string[]) => vector([{ metric: { bg_key: ids[0] } }]),
      /data\.result\[0\]\.value/,
    ],
    ['a sample without metric', () => vector([{ value: [1, '1'] }]), /data\.result\[0\]\.metric/],
    ['warnings that is not a list', () => vector([], { warnings: 'oops' }), /warnings/],
    ['a result that is not a list', () => vector({}), /data\.result/],
    ['JSON that is not an object', () => '[1,2,3]', /not its API's/],
  ])('%s is a malformed-answer telemetry error, not a TypeError', async (_name, body, where) => {
    const err = await failure(await answering(body));
    expect(err.name).toBe('TelemetryError');
    expect(err.kind).toBe('malformed');
    expect(err.message).toMatch(where);
  });

  it('negative counts and more bad than total are telemetry errors, so on_telemetry_error applies', async () => {
    let planned = '';
    const url = await answering((ids) => {
      planned = ids.join();
      return vector(ids.map((id) => ({ metric: { bg_key: id }, value: [AT / 1000, '-50'] })));
    });
    const neg = await failure(url);
    expect(planned).not.toBe('');
    expect(neg.kind).toBe('malformed');
    expect(neg.message).toMatch(/-50 for ok window: .*a count cannot be negative/);

    const source = createPrometheusSource({ url: 'http://127.0.0.1:9', retries: 0 });
    const decision = decide({
      policy,
      at: AT,
      change: { files: ['src/a.ts'], labels: [], author: null, last_push_at: null },
      telemetry: { source: source.name, result: null, error: neg.message },
    });
    expect(decision.allowed).toBe(false);
  });

  it('bad far above total names both numbers', async () => {
    const s: FakeServer = await fakeServer((_req, res) => {
      const q = queryOf(s.seen.at(-1)!);
      const parts = q.split(' or\n');
      const result = parts.map((p) => ({
        metric: { bg_key: /"bg_key", "(q\d+)"/.exec(p)![1] },
        value: [AT / 1000, p.includes('bad_total') ? '500' : '100'],
      }));
      res.writeHead(200);
      res.end(JSON.stringify(vector(result)));
    });
    servers.push(s);
    const err = await failure(s.url);
    expect(err.kind).toBe('malformed');
    expect(err.message).toMatch(/500 for ok .*more bad events than the 100 in total/);
  });

  it('a body past the cap stops at the cap', async () => {
    const big = `{"status":"success","data":{"resultType":"vector","result":[],"pad":"${'x'.repeat(MAX_BODY_BYTES)}"}}`;
    const err = await failure(await answering(() => big));
    expect(err.kind).toBe('malformed');
    expect(err.message).toContain(`more than ${MAX_BODY_BYTES} bytes`);
  });

  it('a gzip bomb stops at the cap after decompression, with memory to spare', async () => {
    // 128 MiB of spaces inside a valid JSON document compresses to about 128 KB: eight times the cap.
    const bomb = gzipSync(
      Buffer.concat([
        Buffer.from('{"status":"success","pad":"'),
        Buffer.alloc(128 << 20, 0x20),
        Buffer.from('"}'),
      ]),
      { level: 9 },
    );
    expect(bomb.length).toBeLessThan(2 << 20);
    const before = process.memoryUsage().rss;
    const err = await failure(await answering(() => bomb, { 'content-encoding': 'gzip' }));
    expect(err.kind).toBe('malformed');
    expect(err.message).toContain(`more than ${MAX_BODY_BYTES} bytes`);
    // Far below the 128 MiB the body would take: the cap plus what was in flight.
    expect(process.memoryUsage().rss - before).toBeLessThan(96 << 20);
  });

  it('strips control characters and bidi overrides from server text before it reaches a message', async () => {
    const url = await answering(() => ({
      status: 'error',
      errorType: 'bad_data',
      error: 'parse error\u001b[31m red\r\nforged line\u202e txet',
    }));
    const err = await failure(url);
    expect(err.kind).toBe('query');
    expect(err.message).toContain('parse error[31m red forged line txet');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what is checked for
    expect(err.message).not.toMatch(/[\u0000-\u001f\u202e]/);
  });
});
