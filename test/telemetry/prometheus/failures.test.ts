import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/policy/gate/decide.ts';
import { planRequest } from '../../../src/policy/gate/plan.ts';
import { loadPolicy } from '../../../src/policy/spec/load.ts';
import type { TelemetryError } from '../../../src/telemetry/errors.ts';
import { createPrometheusSource, prometheusOptionsFromEnv } from '../../../src/telemetry/prometheus/index.ts';
import { cli } from '../../support/cli.ts';
import { PROM_AT, prometheusPolicy } from '../../support/policies.ts';
import { freePort } from '../../support/ports.ts';
import { tempDir } from '../../support/tasks.ts';
import { answer as answerFor, servedPerTest } from './fake-server.ts';

// The ways a metrics server fails, played by a local HTTP server: each gives its own message,
// retries happen only where they can help, and the policy's on_telemetry_error decides.

const AT = PROM_AT;
const policyText = (onError = 'block') => prometheusPolicy({ states: `{ on_telemetry_error: ${onError} }` });
const { policy } = loadPolicy(policyText(), 'p.yml');
const request = planRequest(policy, AT);
const noWait = async () => {};

const serve = servedPerTest();

const answer = (body: string, value: string) => answerFor({ headers: {}, body }, value, AT);

const fail = (e: unknown) => e as TelemetryError;

describe('Prometheus failures', () => {
  it('server down: unreachable, retried, then the policy blocks with the reason', async () => {
    const port = await freePort();
    const src = createPrometheusSource({ url: `http://127.0.0.1:${port}`, retries: 2, sleep: noWait });
    const err = fail(await src.fetch(request).catch((e: unknown) => e));
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe(
      `cannot reach Prometheus at http://127.0.0.1:${port} (ECONNREFUSED) (after 3 attempts)`,
    );
    const d = decide({
      policy,
      at: AT,
      change: { files: [], labels: [], author: null, last_push_at: null },
      telemetry: { source: src.name, result: null, error: err.message },
    });
    expect(d).toMatchObject({ state: 'hard-pause', allowed: false });
    expect(d.reasons[0]!.message).toContain('ECONNREFUSED');
    const allow = loadPolicy(policyText('allow'), 'p.yml').policy;
    const d2 = decide({
      policy: allow,
      at: AT,
      change: { files: [], labels: [], author: null, last_push_at: null },
      telemetry: { source: src.name, result: null, error: err.message },
    });
    expect(d2.allowed).toBe(true);
    expect(d2.reasons[0]!.code).toBe('telemetry-error');
  });

  it('the CLI: exit 2, the reason on stderr, and the decision the policy asks for', async () => {
    const dir = tempDir();
    const file = join(dir, 'policy.yml');
    writeFileSync(file, policyText());
    const port = await freePort();
    const r = await cli(['evaluate', '--policy', file, '--at', '2026-11-20T09:00:00Z', '--json'], {
      env: {
        BUDGET_GATE_PROMETHEUS_URL: `http://127.0.0.1:${port}`,
        BUDGET_GATE_PROMETHEUS_TOKEN: 'zz-secret',
      },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\) \(after 3 attempts\)/,
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'hard-pause', allowed: false });
    expect(r.stdout + r.stderr).not.toContain('zz-secret');
  });

  it('slow server: timeout after the configured time, retried', async () => {
    const { url, seen } = await serve(() => {
      /* never answers */
    });
    const err = fail(
      await createPrometheusSource({ url, timeoutMs: 200, retries: 1, sleep: noWait })
        .fetch(request)
        .catch((e: unknown) => e),
    );
    expect(err.kind).toBe('timeout');
    expect(err.message).toBe(`Prometheus at ${url} did not answer within 200 ms (after 2 attempts)`);
    expect(seen).toHaveLength(2);
  });

  it('503 then success: the retry answers, and the figures say so', async () => {
    const { url, seen } = await serve((_req, res, n) => {
      if (n === 1) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'error', errorType: 'unavailable', error: 'overloaded' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer(seen.at(-1)!.body, '100'));
    });
    const res = await createPrometheusSource({ url, sleep: noWait }).fetch(request);
    expect(res.stats).toMatchObject({ requests: 2, retries: 1 });
    expect(res.slos.ok!.ranges.window).toEqual({ events: 100, bad: 100, ratio: 1 });
  });

  it('a 400 with status error is not retried and carries errorType and error', async () => {
    const { url, seen } = await serve((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ status: 'error', errorType: 'bad_data', error: '1:5: parse error: unexpected "}"' }),
      );
    });
    const err = fail(
      await createPrometheusSource({ url, sleep: noWait })
        .fetch(request)
        .catch((e: unknown) => e),
    );
    expect(err).toMatchObject({
      kind: 'query',
      message: `Prometheus at ${url} refused the query (bad_data: 1:5: parse error: unexpected "}")`,
    });
    expect(seen).toHaveLength(1);
  });

  it('NaN in the window and a partial answer are their own errors', async () => {
    const nan = await serve((_req, res) => {
      res.writeHead(200);
      res.end(answer(nan.seen.at(-1)!.body, 'NaN'));
    });
    expect(
      fail(
        await createPrometheusSource({ url: nan.url })
          .fetch(request)
          .catch((e: unknown) => e),
      ),
    ).toMatchObject({
      kind: 'nan',
      message: expect.stringContaining('NaN for ok window: sum(increase(all_total[604800s] @ 1795165200))'),
    });
    await nan.close();
    const partial = await serve((_req, res) => {
      res.writeHead(200);
      res.end(
        JSON.stringify({
          status: 'success',
          warnings: ['store gateway unavailable: partial response'],
          data: { resultType: 'vector', result: [] },
        }),
      );
    });
    expect(
      fail(
        await createPrometheusSource({ url: partial.url })
          .fetch(request)
          .catch((e: unknown) => e),
      ),
    ).toMatchObject({
      kind: 'partial',
      message: expect.stringContaining('partial result: store gateway unavailable'),
    });
  });

  it('sends bearer token, basic auth and extra headers; never prints them', async () => {
    const { url, seen } = await serve((_req, res) => {
      res.writeHead(401);
      res.end('');
    });
    const opts = prometheusOptionsFromEnv(
      {
        BUDGET_GATE_PROMETHEUS_URL: url,
        BUDGET_GATE_PROMETHEUS_TOKEN: 's3cret-token',
        BUDGET_GATE_PROMETHEUS_HEADERS: 'X-Scope-OrgID: team-a\nX-Extra: 1',
        BUDGET_GATE_PROMETHEUS_TIMEOUT: '2s',
      },
      { sleep: noWait },
    );
    expect(opts.timeoutMs).toBe(2000);
    const err = fail(
      await createPrometheusSource(opts)
        .fetch(request)
        .catch((e: unknown) => e),
    );
    expect(seen[0]!.headers).toMatchObject({
      authorization: 'Bearer s3cret-token',
      'x-scope-orgid': 'team-a',
      'x-extra': '1',
    });
    expect(err.message).toContain('answered 401');
    expect(err.message).not.toContain('s3cret');
    expect(seen).toHaveLength(1);

    const basic = prometheusOptionsFromEnv(
      { BUDGET_GATE_PROMETHEUS_USER: 'u', BUDGET_GATE_PROMETHEUS_PASSWORD: 'p@ss' },
      { url: url.replace('http://', 'http://u:p%40ss@') },
    );
    const err2 = fail(
      await createPrometheusSource(basic)
        .fetch(request)
        .catch((e: unknown) => e),
    );
    expect(seen[1]!.headers.authorization).toBe(`Basic ${Buffer.from('u:p@ss').toString('base64')}`);
    expect(err2.message).not.toContain('p@ss');
    expect(createPrometheusSource(basic).name).toBe(`prometheus ${url}`);
  });

  it('+Inf is reported as Prometheus wrote it; a lookback with no traffic is not an error', async () => {
    const inf = await serve((_req, res) => {
      res.writeHead(200);
      res.end(answer(inf.seen.at(-1)!.body, '+Inf'));
    });
    expect(
      fail(
        await createPrometheusSource({ url: inf.url })
          .fetch(request)
          .catch((e: unknown) => e),
      ),
    ).toMatchObject({
      kind: 'nan',
      message: expect.stringMatching(/^\+Inf for ok window: sum\(increase\(all_total/),
    });

    // Only the window's total answers: every lookback had nothing, the bad counter never appeared.
    const quiet = await serve((_req, res) => {
      const q = new URLSearchParams(quiet.seen.at(-1)!.body).get('query')!;
      const id = /label_replace\(sum\(increase\(all_total\[604800s\] @ \d+\)\), "bg_key", "(q\d+)"/.exec(
        q,
      )![1];
      res.writeHead(200);
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: { bg_key: id }, value: [AT / 1000, '500'] }] },
        }),
      );
    });
    const res = await createPrometheusSource({ url: quiet.url }).fetch(request);
    expect(res.slos.ok!.ranges.window).toEqual({ events: 500, bad: 0, ratio: 0 });
    expect(res.slos.ok!.ranges['lookback:1h']).toEqual({ events: 0, bad: 0, ratio: null });
  });

  it('an expression that returns several series names the SLO and says to aggregate', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200);
      res.end(
        JSON.stringify({
          status: 'success',
          data: {
            resultType: 'vector',
            result: ['a', 'b'].map((tier) => ({ metric: { bg_key: 'q0', tier }, value: [AT / 1000, '1'] })),
          },
        }),
      );
    });
    expect(
      fail(
        await createPrometheusSource({ url })
          .fetch(request)
          .catch((e: unknown) => e),
      ),
    ).toMatchObject({
      kind: 'query',
      message: expect.stringMatching(/^ok window: .* returned more than one series: aggregate it/),
    });
  });

  it('asks nothing for an empty range: a deploy watched from the instant it went live', async () => {
    const { url, seen } = await serve((_req, res) => {
      res.writeHead(200);
      res.end(answer(seen.at(-1)!.body, '7'));
    });
    const slo = request.slos[0]!;
    const res = await createPrometheusSource({ url }).fetch({
      at: AT,
      slos: [{ ...slo, ranges: [slo.ranges[0]!, { key: 'post:d1', from: AT, to: AT }] }],
    });
    expect(res.slos.ok!.ranges['post:d1']).toEqual({ events: 0, bad: 0, ratio: null });
    expect(res.stats?.subqueries).toBe(2);
  });

  it('an SLO without source.prometheus is a config error naming it', async () => {
    const { policy: bare } = loadPolicy(
      'version: 1\nslos:\n  - { name: plain, sli: { kind: success }, target: 0.9, window: 7d, scope: all }\n',
      'p.yml',
    );
    const err = fail(
      await createPrometheusSource({ url: 'http://127.0.0.1:9' })
        .fetch(planRequest(bare, AT))
        .catch((e: unknown) => e),
    );
    expect(err).toMatchObject({
      kind: 'config',
      message: expect.stringContaining('SLO plain has no source.prometheus'),
    });
  });
});
