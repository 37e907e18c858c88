import { afterEach, describe, expect, it } from 'vitest';
import { planRequest } from '../../../src/policy/gate/plan.ts';
import { loadPolicy } from '../../../src/policy/spec/load.ts';
import type { TelemetryError } from '../../../src/telemetry/errors.ts';
import {
  createPrometheusSource,
  type PrometheusOptions,
  prometheusOptionsFromEnv,
} from '../../../src/telemetry/prometheus/index.ts';
import { PROM_AT, prometheusPolicy } from '../../support/policies.ts';
import { answer, type FakeServer, queryOf, servedPerTest } from './fake-server.ts';

// What goes over the wire and what comes back in messages: PromQL anchoring, credentials, which
// answers are retried and for how long.

const AT = PROM_AT;
const AT_S = AT / 1000;
const policyWith = (source: string) => loadPolicy(prometheusPolicy({ source }), 'p.yml').policy;
const COUNTS = `{ bad: 'sum(increase(bad_total[$\{window}]))', total: 'sum(increase(all_total[$\{window}]))' }`;
const request = planRequest(policyWith(COUNTS), AT);

const serve = servedPerTest();
const ok = (srv: () => FakeServer) =>
  serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answer(srv().seen.at(-1)!, '10', AT));
  });

async function failure(opts: PrometheusOptions, req = request): Promise<TelemetryError> {
  return (await createPrometheusSource(opts)
    .fetch(req)
    .catch((e: unknown) => e)) as TelemetryError;
}

const sleeps: number[] = [];
const recordSleep = async (ms: number) => {
  sleeps.push(ms);
};
afterEach(() => {
  sleeps.length = 0;
});

describe('the PromQL sent', () => {
  it('anchors every range at its end, subqueries too, and sends time= as the evaluation time', async () => {
    const src = `{ good: 'sum(increase(good_total[$\{window}]))', total: 'sum(avg_over_time(rate(all_total[5m])[$\{window}:1m])) * $\{window}' }`;
    let s: FakeServer;
    s = await ok(() => s);
    await createPrometheusSource({ url: s.url }).fetch(planRequest(policyWith(src), AT));
    const q = queryOf(s.seen[0]!);
    expect(q).toContain(`label_replace(sum(increase(good_total[604800s] @ ${AT_S})), "bg_key", "q`);
    expect(q).toContain(`sum(avg_over_time(rate(all_total[5m])[604800s:1m] @ ${AT_S})) * 604800s`);
    expect(q).toContain(`sum(increase(good_total[3600s] @ ${AT_S}))`);
    expect(new URLSearchParams(s.seen[0]!.body).get('time')).toBe(AT_S.toFixed(3));
    expect(s.seen[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('lint refuses an expression without the window placeholder, naming the key: every range would read the same value', () => {
    expect(() =>
      policyWith(`{ bad: 'sum(slo:errors:increase30d)', total: 'sum(increase(t[$\{window}]))' }`),
    ).toThrow(/p\.yml:\d+:\d+ slos\[0\]\.source\.prometheus\.bad: no \$\{window\}: every range/);
  });

  it('refuses a URL that is not http(s), without printing it', async () => {
    const err = await failure({ url: 'prometheus:9090' });
    expect(err.kind).toBe('config');
    expect(err.message).toContain('expected an http(s) URL such as http://prometheus:9090');
  });
});

describe('batching and answers', () => {
  it('splits more sub-queries than a request may carry into several, and merges the answers', async () => {
    let s: FakeServer;
    s = await ok(() => s);
    // 1 window + 7 lookbacks, bad and total: 16 sub-queries, 5 to a request.
    const res = await createPrometheusSource({ url: s.url, maxSubqueries: 5 }).fetch(request);
    expect(s.seen).toHaveLength(4);
    expect(res.stats).toMatchObject({ requests: 4, subqueries: 16 });
    expect(Object.values(res.slos.ok!.ranges)).toHaveLength(8);
    for (const sample of Object.values(res.slos.ok!.ranges))
      expect(sample).toEqual({ events: 10, bad: 10, ratio: 1 });
  });

  it("passes PromQL's own annotations on as warnings; any other warning means lost data", async () => {
    let s: FakeServer;
    s = await serve((_req, res) => {
      const body = JSON.parse(answer(s.seen.at(-1)!, '10', AT));
      body.warnings = [
        'PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "all"',
      ];
      res.writeHead(200);
      res.end(JSON.stringify(body));
    });
    const res = await createPrometheusSource({ url: s.url }).fetch(request);
    expect(res.warnings).toEqual([
      `prometheus ${s.url}: PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "all"`,
    ]);
  });
});

describe('credentials', () => {
  it('takes basic auth from the URL (fetch refuses URLs with credentials) and never prints it', async () => {
    let s: FakeServer;
    s = await ok(() => s);
    const url = s.url.replace('http://', 'http://reader:hunter%402@');
    const src = createPrometheusSource({ url });
    expect(src.name).toBe(`prometheus ${s.url}`);
    await src.fetch(request);
    expect(s.seen[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('reader:hunter@2').toString('base64')}`,
    );
  });

  it('trims a token read with its newline, and redacts it from whatever the server echoes', async () => {
    const s = await serve((req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'error',
          errorType: 'unavailable',
          error: `rejected ${req.headers.authorization}`,
        }),
      );
    });
    const err = await failure({
      url: s.url,
      bearerToken: 'tok-12345\n',
      headers: { 'X-Api-Key': 'key-67890', 'X-Scope-OrgID': 'team-a' },
      retries: 0,
    });
    expect(s.seen[0]!.headers.authorization).toBe('Bearer tok-12345');
    expect(err.message).toBe(`Prometheus at ${s.url} answered HTTP 503 (unavailable: rejected Bearer ***)`);
  });
});

describe('retries', () => {
  it('404 says where the API lives and is not retried', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(404);
      res.end('404 page not found');
    });
    const err = await failure({ url: `${s.url}/mimir`, sleep: recordSleep });
    expect(err.kind).toBe('config');
    expect(err.message).toContain('give the URL the API lives under (Mimir/Cortex: …/prometheus');
    expect(s.seen).toHaveLength(1);
  });

  it('a 4xx other than 408/429 is not retried; 429 waits as long as Retry-After asks', async () => {
    const teapot = await serve((_req, res) => {
      res.writeHead(418);
      res.end();
    });
    expect((await failure({ url: teapot.url, sleep: recordSleep })).kind).toBe('http');
    expect(teapot.seen).toHaveLength(1);

    let busy: FakeServer;
    busy = await serve((_req, res, n) => {
      if (n === 1) {
        res.writeHead(429, { 'retry-after': '3' });
        res.end();
        return;
      }
      res.writeHead(200);
      res.end(answer(busy.seen.at(-1)!, '5', AT));
    });
    const res = await createPrometheusSource({ url: busy.url, sleep: recordSleep }).fetch(request);
    expect(res.stats).toMatchObject({ requests: 2, retries: 1 });
    expect(sleeps).toEqual([3000]);
  });

  it('backs off between attempts, doubling', async () => {
    const down = await serve((_req, res) => {
      res.writeHead(502);
      res.end();
    });
    const err = await failure({ url: down.url, retries: 3, sleep: recordSleep });
    expect(err.message).toBe(`Prometheus at ${down.url} answered HTTP 502 (after 4 attempts)`);
    expect(sleeps).toHaveLength(3);
    sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(250 * 2 ** i * 0.75);
      expect(ms).toBeLessThanOrEqual(250 * 2 ** i * 1.25);
    });
  });

  it('a server that sends headers and then stalls is a timeout', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":"succ');
    });
    const err = await failure({ url: s.url, timeoutMs: 150, retries: 0 });
    expect(err).toMatchObject({
      kind: 'timeout',
      message: `Prometheus at ${s.url} did not answer within 150 ms`,
    });
  });
});

describe('settings from the environment', () => {
  it('reads headers as lines or JSON, a duration for the timeout; explicit settings win', () => {
    const env = {
      BUDGET_GATE_PROMETHEUS_URL: 'http://env:9090',
      BUDGET_GATE_PROMETHEUS_HEADERS: '{"X-Scope-OrgID":"team-a"}',
      BUDGET_GATE_PROMETHEUS_TIMEOUT: '1m30s',
    };
    expect(prometheusOptionsFromEnv(env)).toEqual({
      url: 'http://env:9090',
      headers: { 'X-Scope-OrgID': 'team-a' },
      timeoutMs: 90_000,
    });
    expect(prometheusOptionsFromEnv(env, { url: 'http://flag:9090', timeoutMs: 5 })).toMatchObject({
      url: 'http://flag:9090',
      timeoutMs: 5,
    });
  });

  it('names the variable that is wrong', () => {
    const bad = (env: Record<string, string>) => {
      try {
        prometheusOptionsFromEnv({ BUDGET_GATE_PROMETHEUS_URL: 'http://p', ...env });
        return null;
      } catch (e) {
        return e as TelemetryError;
      }
    };
    expect(bad({ BUDGET_GATE_PROMETHEUS_HEADERS: 'no colon here' })?.message).toBe(
      'BUDGET_GATE_PROMETHEUS_HEADERS: "no colon here" is not `Name: value`',
    );
    expect(bad({ BUDGET_GATE_PROMETHEUS_HEADERS: '{"a": 1}' })?.kind).toBe('config');
    expect(bad({ BUDGET_GATE_PROMETHEUS_TIMEOUT: 'soon' })?.message).toBe(
      'BUDGET_GATE_PROMETHEUS_TIMEOUT: expected a duration from 100ms to 5m, such as 10s',
    );
    expect(() => prometheusOptionsFromEnv({})).toThrow(
      /give --prometheus URL or set BUDGET_GATE_PROMETHEUS_URL/,
    );
  });
});
