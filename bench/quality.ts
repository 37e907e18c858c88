// npm run quality [-- --healthy N] [--incident N] [--bad N] [--seed N] [--only healthy|bad] [--out bench/results/quality.md]
// Thousands of simulated deploys judged by `budget-gate canary --replay`'s own code under the
// shipped example policy, on agent traffic built on assumptions the judge does not make
// (src/scenarios/agent-traffic.ts): bursty arrivals, customers of very different sizes, runs of
// one customer's failures with client retries, incidents that ramp up, hit part of the traffic
// and time tasks out, a task mix that shifts. Every rate carries its Wilson 95% interval.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { planReplayRequest } from '../src/policy/canary/plan.ts';
import { gridResult, replayDeployment } from '../src/policy/canary/replay.ts';
import { wilson } from '../src/policy/canary/stats.ts';
import { loadPolicy } from '../src/policy/spec/load.ts';
import type { Policy } from '../src/policy/spec/schema.ts';
import {
  drawTraffic,
  type IncidentCase,
  type Regression,
  type TrafficSpec,
} from '../src/scenarios/agent-traffic.ts';
import { MemorySource } from '../src/telemetry/memory.ts';

const { values } = parseArgs({
  options: {
    healthy: { type: 'string', default: '2000' },
    /** Healthy deploys a cell with an incident (they run the whole watch: the slow cells). */
    incident: { type: 'string', default: '1000' },
    bad: { type: 'string', default: '400' },
    seed: { type: 'string', default: '21' },
    only: { type: 'string' },
    /** Only the cells whose "label | N/min" contains one of these (comma-separated). */
    cells: { type: 'string' },
    out: { type: 'string', default: join(import.meta.dirname, 'results/quality.md') },
  },
});
const HEALTHY = Number(values.healthy);
const INCIDENT = Number(values.incident);
const BAD = Number(values.bad);
const SEED = Number(values.seed);
const examplePath = join(import.meta.dirname, '../examples/error-budget.yml');
const policy: Policy = loadPolicy(readFileSync(examplePath, 'utf8'), examplePath).policy;

interface Cell {
  group: 'healthy' | 'bad';
  label: string;
  spec: TrafficSpec;
  trials: number;
}

const INCIDENTS: Record<IncidentCase, string> = {
  none: 'no incident',
  'in-progress': 'incident in progress at the deploy',
  'mid-watch': 'incident begins mid-watch',
};
const REG: Record<string, Regression> = {
  'failures 1% → 40%': { kind: 'failure', to: 0.4 },
  'failures 1% → 10%': { kind: 'failure', to: 0.1 },
  'latency ×2': { kind: 'latency', factor: 2 },
  'cost ×2': { kind: 'cost', factor: 2 },
};

const cells: Cell[] = [];
for (const perMinute of [0.6, 5, 30])
  cells.push({
    group: 'healthy',
    label: `${INCIDENTS.none}`,
    spec: { perMinute, incident: 'none', regression: null },
    trials: HEALTHY,
  });
for (const incident of ['in-progress', 'mid-watch'] as const) {
  const perMinute = 5;
  cells.push({
    group: 'healthy',
    label: INCIDENTS[incident],
    spec: { perMinute, incident, regression: null },
    trials: INCIDENT,
  });
  cells.push({
    group: 'healthy',
    label: `${INCIDENTS[incident]}, 50/50 split`,
    spec: { perMinute, incident, regression: null, canaryShare: 0.5 },
    trials: INCIDENT,
  });
}
for (const [label, regression] of Object.entries(REG)) {
  cells.push({ group: 'bad', label, spec: { perMinute: 5, incident: 'none', regression }, trials: BAD });
  cells.push({
    group: 'bad',
    label: `${label}, 50/50 split`,
    spec: { perMinute: 5, incident: 'none', regression, canaryShare: 0.5 },
    trials: BAD,
  });
}
for (const share of [0.05, 0.25])
  cells.push({
    group: 'bad',
    label: `failures 1% → 10%, ${share * 100}% canary`,
    spec: { perMinute: 5, incident: 'none', regression: REG['failures 1% → 10%']!, canaryShare: share },
    trials: BAD,
  });
cells.push({
  group: 'bad',
  label: 'failures 1% → 40%',
  spec: { perMinute: 30, incident: 'none', regression: REG['failures 1% → 40%']! },
  trials: BAD,
});
cells.push({
  group: 'bad',
  label: 'failures 1% → 10%',
  spec: { perMinute: 30, incident: 'none', regression: REG['failures 1% → 10%']! },
  trials: BAD,
});

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;
const ci = (k: number, n: number) => {
  const w = wilson(k, n);
  return `${pct(k / n)} (${pct(w.low)}–${pct(w.high)})`;
};
const quantile = (xs: number[], q: number) =>
  xs.length === 0 ? null : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const t0 = performance.now();
const rows: Record<'healthy' | 'bad', string[]> = { healthy: [], bad: [] };
for (const [index, c] of cells.entries()) {
  // Seeds by cell, so a cell draws the same deploys whichever others run with it.
  let seed = SEED * 1_000_003 + index * 100_003;
  const name = `${c.label} | ${c.spec.perMinute}/min`;
  if (values.only && values.only !== c.group) continue;
  if (values.cells && !values.cells.split(',').some((part) => name.includes(part))) continue;
  const minutes: number[] = [];
  const rules: Record<string, number> = {};
  for (let i = 0; i < c.trials; i++) {
    const traffic = drawTraffic(c.spec, seed++);
    const watch = { id: 'q', deployed_at: traffic.deployedAt };
    const request = planReplayRequest(policy, watch);
    const grid = gridResult(request, await new MemorySource('sim', traffic.tasks).fetch(request))!;
    const { replay } = replayDeployment(policy, watch, grid);
    if (replay.verdict === 'revert') {
      minutes.push(replay.minute);
      const why = `${replay.slo}`;
      rules[why] = (rules[why] ?? 0) + 1;
    }
  }
  const n = c.trials;
  const by = Object.entries(rules)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  if (c.group === 'healthy') {
    rows.healthy.push(
      `| ${c.label} | ${c.spec.perMinute}/min | ${n} | ${minutes.length} | ${ci(minutes.length, n)} | ${by || '—'} |`,
    );
  } else {
    const in10 = minutes.filter((m) => m <= 10).length;
    rows.bad.push(
      `| ${c.label} | ${c.spec.perMinute}/min | ${n} | ${ci(minutes.length, n)} | ${ci(in10, n)} | ${quantile(minutes, 0.5) ?? '—'} / ${quantile(minutes, 0.95) ?? '—'} |`,
    );
  }
  process.stdout.write(
    `${name}: ${minutes.length}/${n} reverted (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
  );
}

const ar = policy.auto_revert;
const md = `# Canary judge quality

Generated by \`npm run quality\` (seed ${SEED}; ${HEALTHY} healthy deploys a cell without incident,
${INCIDENT} a cell with one, ${BAD} bad ones;
${((performance.now() - t0) / 1000).toFixed(0)} s). Each deploy is judged by \`budget-gate canary --replay\`'s own code
(\`replayDeployment\`: the bot's assessment at every minute of the watch) under examples/error-budget.yml
(confidence ${ar.confidence}, burn_rate ${ar.burn_rate}, consumed ${ar.consumed}, baseline ${ar.baseline},
cluster_by ${ar.cluster_by ?? '—'}, control ${ar.control ? JSON.stringify(ar.control) : '—'}), on traffic from
src/scenarios/agent-traffic.ts: paid-tier tasks at the rate shown (the free tier at a fifth), 40
customers of log-normal sizes, gamma-bursty arrivals, one customer's bad input (85% of its tasks
failing for 1–6 minutes, with client retries) about once an hour, every failure retried up to four
times, a task mix that shifts, and incidents that ramp up over 1–8 minutes, reach 30–100% of the
traffic, fail 15–60% of it (half as 60 s timeouts) and slow the rest 1–3x. Rates with Wilson 95%
intervals.

## Healthy deploys (a false revert is a revert by any SLO)

| case | traffic | deploys | reverted | rate (95% CI) | by SLO |
|---|---|---:|---:|---|---|
${rows.healthy.join('\n')}

## Bad deploys

| regression | traffic | deploys | reverted within the watch (95% CI) | within 10 min (95% CI) | median / p95 min |
|---|---|---:|---|---|---|
${rows.bad.join('\n')}
`;
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, md);
process.stdout.write(`\nwrote ${values.out}\n`);
