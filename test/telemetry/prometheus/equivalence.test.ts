import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessDeployment, planCanaryRequest } from '../../../src/policy/canary/assess.ts';
import { decide } from '../../../src/policy/gate/decide.ts';
import { planRequest } from '../../../src/policy/gate/plan.ts';
import { loadPolicy } from '../../../src/policy/spec/load.ts';
import { JsonlSource } from '../../../src/telemetry/jsonl/source.ts';
import { createPrometheusSource } from '../../../src/telemetry/prometheus/index.ts';
import { cli } from '../../support/cli.ts';
import { BACKENDS, type MetricsBackend, startBackend } from '../../support/metrics-backends.ts';
import { countingProxy, fetchFailure } from '../../support/prometheus.ts';
import { type SeriesSet, seriesFromTasks } from '../../support/series.ts';
import { steadyTasks, type Task, tempDir, writeTasks } from '../../support/tasks.ts';

// The same month of tasks, as a JSONL file and as counters in a real Prometheus and a real
// VictoriaMetrics: budget-gate must reach the same decision with the same figures from each.

const MINUTE = 60_000;
const DAY = 86_400_000;
const AT = Date.parse('2026-11-20T09:00:00Z');
const FROM = AT - 8 * DAY;

const POLICY = `version: 1
slos:
  - name: success-paid
    sli: { kind: success }
    target: 0.95
    window: 7d
    scope: { tier: paid }
    source:
      prometheus:
        bad: sum(increase(agent_tasks_total{tier="paid",outcome="error"}[\${window}]))
        total: sum(increase(agent_tasks_total{tier="paid"}[\${window}]))
  - name: latency-free
    sli: { kind: latency, threshold_ms: 10000 }
    target: 0.9
    window: 7d
    scope: { tier: free }
    source:
      prometheus:
        good: sum(increase(agent_task_duration_seconds_bucket{tier="free",le="10"}[\${window}]))
        total: sum(increase(agent_task_duration_seconds_count{tier="free"}[\${window}]))
risk:
  rules:
    - { paths: ['prompts/**'], class: high }
`;

let jsonlPath: string;
let policyPath: string;
let series: SeriesSet;

beforeAll(async () => {
  // Paid: a regression that starts two days before AT (1% → 12% failing). Free: steady, with
  // every 20th task slow. Four and three tasks a minute, stamped inside the minute.
  const paid = steadyTasks(FROM, AT, 4, (t) => (t > AT - 2 * DAY ? 0.12 : 0.01), { tier: 'paid' });
  const free: Task[] = steadyTasks(FROM, AT, 3, () => 0.02, { tier: 'free' }).map((t, i) => ({
    ...t,
    latency_ms: i % 20 === 0 ? 14_000 : 2_500,
    cost_usd: i % 25 === 0 ? 0.05 : 0.02,
  }));
  const tasks = [...paid, ...free];
  const dir = tempDir();
  jsonlPath = writeTasks(dir, 'tasks.jsonl', tasks);
  policyPath = join(dir, 'policy.yml');
  writeFileSync(policyPath, POLICY);
  series = seriesFromTasks(tasks, FROM - MINUTE, AT);
});

describe.each(BACKENDS)('Prometheus source against a real %s', (kind) => {
  let prom: MetricsBackend;
  beforeAll(async () => {
    prom = await startBackend(kind, series);
    // Exact agreement on Prometheus rests on version 2's left-closed ranges: the sample at a
    // range's start is in it, so increase() is c(to) - c(from). Prometheus 3 leaves it out and
    // extrapolates instead (see prometheus3.test.ts). VictoriaMetrics' ranges are left-open, but
    // its increase() starts from the last sample before the range, which is that same sample.
    if (kind === 'prometheus')
      expect(prom.version, 'these figures are exact on Prometheus 2.x only').toMatch(/^2\./);
    // promtool takes tens of seconds for these 8 days on a busy machine; a hook that timed out
    // mid-start would leave the server running with nobody to stop it.
  }, 180_000);
  afterAll(async () => {
    await prom?.stop();
  });

  it('counts the same events and bad events as the JSONL source in every range, in one request', async () => {
    const { policy } = loadPolicy(POLICY, 'policy.yml');
    const request = planRequest(policy, AT, { series: 24 });
    const fromProm = await createPrometheusSource({ url: prom.url }).fetch(request);
    const fromJsonl = await new JsonlSource({ path: jsonlPath }).fetch(request);
    expect(fromProm.stats?.requests).toBe(1);
    for (const slo of policy.slos) {
      const want = fromJsonl.slos[slo.name]!.ranges;
      const got = fromProm.slos[slo.name]!.ranges;
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const key of Object.keys(want)) {
        // Counters start at zero before the first task and every range edge is a sample time,
        // so increase() needs no extrapolation: the counts agree to floating-point rounding.
        expect(got[key]!.events, `${slo.name} ${key} events`).toBeCloseTo(want[key]!.events!, 6);
        expect(got[key]!.bad, `${slo.name} ${key} bad`).toBeCloseTo(want[key]!.bad!, 6);
      }
    }
    expect(fromJsonl.slos['success-paid']!.ranges.window!.events).toBeGreaterThan(40_000);
  });

  it('counts the canary ranges the same: post-deploy spans and baselines that end before now', async () => {
    const { policy } = loadPolicy(POLICY, 'policy.yml');
    // One deploy 30 minutes ago (still watched), one 3 hours ago (its hour is over), one this instant.
    const watches = [
      { id: 'recent', deployed_at: AT - 30 * MINUTE },
      { id: 'older', deployed_at: AT - 180 * MINUTE },
      { id: 'now', deployed_at: AT },
    ];
    const request = planCanaryRequest(policy, watches, AT);
    const fromProm = await createPrometheusSource({ url: prom.url }).fetch(request);
    const fromJsonl = await new JsonlSource({ path: jsonlPath }).fetch(request);
    expect(fromProm.stats?.requests).toBe(1);
    for (const slo of policy.slos) {
      const want = fromJsonl.slos[slo.name]!.ranges;
      const got = fromProm.slos[slo.name]!.ranges;
      for (const key of ['post:recent', 'baseline:recent', 'post:older', 'baseline:older', 'post:now']) {
        expect(got[key]!.events, `${slo.name} ${key} events`).toBeCloseTo(want[key]!.events!, 6);
        expect(got[key]!.bad, `${slo.name} ${key} bad`).toBeCloseTo(want[key]!.bad!, 6);
      }
      expect(got['post:now']).toEqual({ events: 0, bad: 0, ratio: null });
    }
    expect(fromJsonl.slos['success-paid']!.ranges['post:older']!.events).toBe(240);
    for (const w of watches)
      expect(assessDeployment(policy, w, fromProm, AT)).toEqual(assessDeployment(policy, w, fromJsonl, AT));
  });

  it('gives the same decision: state, consumed and burn rates', async () => {
    const { policy } = loadPolicy(POLICY, 'policy.yml');
    const change = { files: ['prompts/a.md'], labels: [], author: null, last_push_at: null };
    const request = planRequest(policy, AT, { series: 24 });
    const decisions = await Promise.all(
      [createPrometheusSource({ url: prom.url }), new JsonlSource({ path: jsonlPath })].map(async (src) =>
        decide({
          policy,
          at: AT,
          change,
          telemetry: { source: src.name, result: await src.fetch(request), error: null },
        }),
      ),
    );
    const [p, j] = decisions as [(typeof decisions)[0], (typeof decisions)[0]];
    expect(p.state).toBe('soft-pause');
    expect(p.state).toBe(j.state);
    expect(p.allowed).toBe(j.allowed);
    for (const [i, slo] of p.slos.entries()) {
      expect(slo.consumed!).toBeCloseTo(j.slos[i]!.consumed!, 9);
      for (const [k, v] of Object.entries(slo.burn_rates))
        expect(v!).toBeCloseTo(j.slos[i]!.burn_rates[k]!, 9);
    }
    expect(p.alerts.map((a) => a.name)).toEqual(j.alerts.map((a) => a.name));
  });

  it('budget-gate evaluate --prometheus prints the same decision as --telemetry', async () => {
    const args = [
      'evaluate',
      '--policy',
      policyPath,
      '--at',
      '2026-11-20T09:00:00Z',
      '--changed-files',
      '-',
      '--json',
    ];
    const viaProm = await cli([...args, '--prometheus', prom.url], { stdin: 'prompts/a.md\n' });
    const viaJsonl = await cli([...args, '--telemetry', jsonlPath], { stdin: 'prompts/a.md\n' });
    expect(viaProm.code).toBe(1);
    expect(viaProm.code).toBe(viaJsonl.code);
    const a = JSON.parse(viaProm.stdout);
    const b = JSON.parse(viaJsonl.stdout);
    expect(a.state).toBe(b.state);
    expect(a.reasons.map((r: { code: string }) => r.code)).toEqual(
      b.reasons.map((r: { code: string }) => r.code),
    );
    expect(a.telemetry.source).toBe(`prometheus ${prom.url}`);
  });

  it('reads the URL from BUDGET_GATE_PROMETHEUS_URL', async () => {
    const r = await cli(['evaluate', '--policy', policyPath, '--at', '2026-11-20T09:00:00Z', '--json'], {
      env: { BUDGET_GATE_PROMETHEUS_URL: prom.url },
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).telemetry).toEqual({ source: `prometheus ${prom.url}`, error: null });
  });

  it('a query the server refuses carries the server’s errorType and error', async () => {
    // One closing parenthesis short.
    const { policy } = loadPolicy(
      POLICY.replace(`{tier="paid"}[\${window}]))`, `{tier="paid"}[\${window}])`),
      'p.yml',
    );
    const err = await fetchFailure(prom.url, policy, AT);
    // Prometheus answers 400 bad_data; VictoriaMetrics 422 with its own parser's words.
    const why = kind === 'prometheus' ? /bad_data: .*parse error/ : /422: .*unexpected token/;
    expect(err).toMatchObject({ kind: 'query', message: expect.stringMatching('refused the query') });
    expect((err as Error).message).toMatch(why);
  });

  it('a selector that matches nothing is no-data, naming the SLO and the query', async () => {
    const { policy } = loadPolicy(POLICY.replaceAll('tier="paid"', 'tier="platinum"'), 'p.yml');
    const err = await fetchFailure(prom.url, policy, AT);
    expect(err).toMatchObject({
      kind: 'no-data',
      message: expect.stringContaining(
        'no series for success-paid window: sum(increase(agent_tasks_total{tier="platinum"}',
      ),
    });
  });

  describe('the example policy, through the CLI', () => {
    // Evaluated at midnight so every range the plan asks for — the 30d and 7d windows, the calendar
    // month since Nov 1, the lookbacks, 24 chart steps of each — starts and ends on a sample.
    const at = '2026-11-20T00:00:00Z';
    const example = fileURLToPath(new URL('../../../examples/error-budget.yml', import.meta.url));

    it('one evaluate is one HTTP request, and gives the JSONL decision figure for figure', async () => {
      const proxy = await countingProxy(prom.url);
      try {
        const args = ['evaluate', '--policy', example, '--at', at, '--labels', 'release', '--json'];
        const viaProm = await cli([...args, '--prometheus', proxy.url]);
        const viaJsonl = await cli([...args, '--telemetry', jsonlPath]);
        expect(viaProm.stderr).toBe('');
        // 256 sub-queries, 31 KB of PromQL: one request to Prometheus. VictoriaMetrics refuses
        // queries over 16 KiB and says so; the source splits under that limit and asks again.
        expect(proxy.seen).toEqual(Array(kind === 'prometheus' ? 1 : 3).fill('POST /api/v1/query'));
        expect(viaProm.code).toBe(viaJsonl.code);
        const a = JSON.parse(viaProm.stdout);
        const b = JSON.parse(viaJsonl.stdout);
        expect(a.slos).toHaveLength(4);
        expect(a.state).toBe(b.state);
        expect(a.allowed).toBe(b.allowed);
        expect(a.reasons.map((r: { code: string }) => r.code)).toEqual(
          b.reasons.map((r: { code: string }) => r.code),
        );
        for (const [i, slo] of (a.slos as Array<Record<string, unknown>>).entries()) {
          const want = b.slos[i];
          expect(slo.name).toBe(want.name);
          expect(slo.events, `${want.name} events`).toBeCloseTo(want.events, 6);
          expect(slo.bad, `${want.name} bad`).toBeCloseTo(want.bad, 6);
          expect(slo.consumed, `${want.name} consumed`).toBeCloseTo(want.consumed, 9);
          for (const [k, v] of Object.entries(slo.burn_rates as Record<string, number | null>)) {
            if (want.burn_rates[k] === null) expect(v).toBeNull();
            else expect(v, `${want.name} burn ${k}`).toBeCloseTo(want.burn_rates[k], 9);
          }
        }
        // The scenario has something to say: the paid tier burns, the cost SLO is a calendar month.
        expect(b.slos.find((s: { name: string }) => s.name === 'task-cost').bad).toBeGreaterThan(0);
        expect(a.alerts.map((x: { name: string }) => x.name)).toEqual(
          b.alerts.map((x: { name: string }) => x.name),
        );
      } finally {
        await proxy.close();
      }
    });
  });
});
