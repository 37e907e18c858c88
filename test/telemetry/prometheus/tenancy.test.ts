import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planRequest } from '../../../src/policy/gate/plan.ts';
import { loadPolicy } from '../../../src/policy/spec/load.ts';
import { createPrometheusSource } from '../../../src/telemetry/prometheus/index.ts';
import { cli } from '../../support/cli.ts';
import { PROM_AT, prometheusPolicy } from '../../support/policies.ts';
import { tempDir } from '../../support/tasks.ts';
import { answer, type FakeServer, serve } from './fake-server.ts';

// Mimir, Cortex and Thanos' receive path pick the tenant from X-Scope-OrgID on each request; one
// request without it reads another tenant's data (or none). Played here by a server that refuses a
// request without the header as Mimir does (401 "no org id"), fails the first request with a 503
// to force a retry, and refuses long queries to force a re-split: the header must be on each.

const AT = PROM_AT;
const POLICY = prometheusPolicy();

let server: FakeServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const LIMIT = 1500;
/** The status each request got, in order. */
let statuses: number[] = [];

async function mimir(): Promise<FakeServer> {
  statuses = [];
  const s: FakeServer = await serve((req, res, n) => {
    const reply = (status: number, type: string, text: string) => {
      statuses.push(status);
      res.writeHead(status, { 'content-type': type });
      res.end(text);
    };
    const body = s.seen.at(-1)!.body;
    const length = Buffer.byteLength(new URLSearchParams(body).get('query') ?? '');
    if (req.headers['x-scope-orgid'] !== 'team-a') reply(401, 'text/plain', 'no org id');
    else if (n === 1) reply(503, 'text/plain', 'ingester unavailable');
    else if (length > LIMIT) {
      const error = `too long query; got ${length} bytes; mustn't exceed \`-search.maxQueryLen=${LIMIT}\` bytes`;
      reply(422, 'application/json', JSON.stringify({ status: 'error', errorType: '422', error }));
    } else reply(200, 'application/json', answer(s.seen.at(-1)!, '10', AT));
  });
  server = s;
  return s;
}

describe('the tenancy header', () => {
  it('reaches the server on every request: retries, batches and re-split batches alike', async () => {
    const s = await mimir();
    const source = createPrometheusSource({
      url: `${s.url}/prometheus`,
      headers: { 'X-Scope-OrgID': 'team-a' },
      maxSubqueries: 20,
      sleep: async () => {},
    });
    const request = planRequest(loadPolicy(POLICY, 'p.yml').policy, AT, { series: 24 });
    const result = await source.fetch(request);
    // 64 sub-queries in batches of up to 20: the first is retried after the 503, refused for its
    // length, and from then on every batch is cut under the limit the server stated.
    expect(result.stats?.subqueries).toBe(64);
    expect(result.stats?.retries).toBe(1);
    expect(statuses.slice(0, 2)).toEqual([503, 422]);
    expect(statuses.length).toBeGreaterThan(5);
    expect(statuses.slice(2)).toEqual(Array(statuses.length - 2).fill(200));
    for (const r of s.seen.slice(2))
      expect(Buffer.byteLength(new URLSearchParams(r.body).get('query')!)).toBeLessThanOrEqual(LIMIT);
    expect(s.seen.map((r) => r.headers['x-scope-orgid'])).toEqual(Array(s.seen.length).fill('team-a'));
    expect(result.slos.ok!.ranges.window).toMatchObject({ events: 10, bad: 10 });
  });

  it('from BUDGET_GATE_PROMETHEUS_HEADERS, through the CLI', async () => {
    const s = await mimir();
    const dir = tempDir();
    writeFileSync(join(dir, 'p.yml'), POLICY);
    const r = await cli(
      ['evaluate', '--policy', join(dir, 'p.yml'), '--prometheus', `${s.url}/prometheus`, '--json'],
      { env: { BUDGET_GATE_PROMETHEUS_HEADERS: 'X-Scope-OrgID: team-a' } },
    );
    // The 503 is retried after a real (short) backoff; the answer then blocks: all bad.
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).telemetry.error).toBeNull();
    expect(statuses.slice(0, 2)).toEqual([503, 422]);
    for (const req of s.seen) expect(req.headers['x-scope-orgid']).toBe('team-a');
  });
});
