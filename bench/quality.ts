// npm run quality [-- --healthy N] [--incident N] [--bad N] [--seed N] [--jobs N] [--only healthy|bad]
//                    [--cells a,b] [--out bench/results/quality.md] [--docs docs/bot.md]
// Thousands of simulated deploys judged by `budget-gate canary --replay`'s own code under the
// shipped example policy, on agent traffic built on assumptions the judge does not make
// (src/scenarios/agent-traffic.ts): bursty arrivals, customers of very different sizes, runs of
// one customer's failures with client retries, incidents that ramp up, hit part of the traffic
// and time tasks out, a task mix that shifts. Every rate carries its Wilson 95% interval. The cells
// run in --jobs processes (default 2); a full run also rewrites the table in docs/bot.md and
// README.md between their quality markers, so the docs quote this run.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { planReplayRequest } from '../src/policy/canary/plan.ts';
import { gridResult, replayDeployment } from '../src/policy/canary/replay.ts';
import { wilson } from '../src/policy/canary/stats.ts';
import type { GridCounts, TelemetryResult } from '../src/policy/gate/sample.ts';
import { loadPolicy } from '../src/policy/spec/load.ts';
import type { Policy } from '../src/policy/spec/schema.ts';
import {
  drawTraffic,
  type IncidentCase,
  incidentHarm,
  type Regression,
  type Traffic,
  type TrafficSpec,
} from '../src/scenarios/agent-traffic.ts';
import { MemorySource } from '../src/telemetry/memory.ts';

const { values } = parseArgs({
  options: {
    healthy: { type: 'string', default: '2000' },
    /** Healthy deploys a cell with an incident (they run the whole watch: the slow cells). */
    incident: { type: 'string', default: '2000' },
    bad: { type: 'string', default: '400' },
    seed: { type: 'string', default: '21' },
    jobs: { type: 'string', default: '2' },
    only: { type: 'string' },
    /** Only the cells whose "label | N/min" contains one of these (comma-separated). */
    cells: { type: 'string' },
    out: { type: 'string', default: join(import.meta.dirname, 'results/quality.md') },
    /** The docs whose quality table a full run rewrites, comma-separated ('' for none). */
    docs: {
      type: 'string',
      default: [join(import.meta.dirname, '../docs/bot.md'), join(import.meta.dirname, '../README.md')].join(
        ',',
      ),
    },
    /** Internal: run these cell indexes and print their results as JSON lines. */
    worker: { type: 'string' },
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
  /** Relative run time of one deploy, to spread the cells over the jobs. */
  cost: number;
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
    cost: perMinute / 5 + 0.5,
  });
for (const incident of ['in-progress', 'mid-watch'] as const) {
  const perMinute = 5;
  cells.push({
    group: 'healthy',
    label: INCIDENTS[incident],
    spec: { perMinute, incident, regression: null },
    trials: INCIDENT,
    cost: 4,
  });
  cells.push({
    group: 'healthy',
    label: `${INCIDENTS[incident]}, 50/50 split`,
    spec: { perMinute, incident, regression: null, canaryShare: 0.5 },
    trials: INCIDENT,
    cost: 1.5,
  });
}
for (const [label, regression] of Object.entries(REG)) {
  cells.push({
    group: 'bad',
    label,
    spec: { perMinute: 5, incident: 'none', regression },
    trials: BAD,
    cost: 1,
  });
  cells.push({
    group: 'bad',
    label: `${label}, 50/50 split`,
    spec: { perMinute: 5, incident: 'none', regression, canaryShare: 0.5 },
    trials: BAD,
    cost: 1.5,
  });
}
// A ramp's steps: the same regressions on 5% and 25% of the traffic.
for (const [label, regression] of Object.entries(REG).slice(0, 2))
  for (const share of [0.05, 0.25])
    cells.push({
      group: 'bad',
      label: `${label}, ${share * 100}% canary`,
      spec: { perMinute: 5, incident: 'none', regression, canaryShare: share },
      trials: BAD,
      cost: 1.5,
    });
cells.push({
  group: 'bad',
  label: 'failures 1% → 40%',
  spec: { perMinute: 30, incident: 'none', regression: REG['failures 1% → 40%']! },
  trials: BAD,
  cost: 2,
});
cells.push({
  group: 'bad',
  label: 'failures 1% → 10%',
  spec: { perMinute: 30, incident: 'none', regression: REG['failures 1% → 10%']! },
  trials: BAD,
  cost: 2,
});

const nameOf = (c: Cell) => `${c.label} | ${c.spec.perMinute}/min`;
const selected = cells
  .map((c, index) => ({ c, index }))
  .filter(({ c }) => !values.only || values.only === c.group)
  .filter(({ c }) => !values.cells || values.cells.split(',').some((part) => nameOf(c).includes(part)));

interface CellResult {
  index: number;
  n: number;
  /** Minutes of the reverts, in order. */
  minutes: number[];
  by: Record<string, number>;
  /** Incident cells: deploys whose incident left under one bad task more than usual where it could be told apart, and how many of those were reverted. */
  blind?: { n: number; reverted: number };
  /** Failure regressions: the oracle test's reverts within 10 minutes and within the watch. */
  oracle?: { in10: number; inWatch: number };
  seconds: number;
}

/** Per-minute counts of one SLO's grid, minute k from the deploy. */
function minutesOf(grid: GridCounts, deployedAt: number) {
  const k0 = Math.round((deployedAt - grid.from) / grid.step);
  const at = (k: number) => ({
    n: grid.events[k0 + k + 1]! - grid.events[k0 + k]!,
    x: grid.bad[k0 + k + 1]! - grid.bad[k0 + k]!,
  });
  const baseline = {
    n: grid.events[k0]! - grid.events[Math.max(0, k0 - 360)]!,
    x: grid.bad[k0]! - grid.bad[Math.max(0, k0 - 360)]!,
  };
  return { at, baseline };
}

/**
 * The most the counts allow about an incident: the bad tasks it added, beyond the usual, where a
 * judge could tell it from the deploy — the paid scope's minutes before the deploy (in progress),
 * or its minutes before the incident's onset had it been there all along (mid-watch).
 */
function blindness(traffic: Traffic, grid: TelemetryResult): number {
  const inc = traffic.incidents[0];
  const g = grid.slos['task-latency-paid']?.grid;
  if (!inc || !g) return Number.POSITIVE_INFINITY;
  const m = minutesOf(g, traffic.deployedAt);
  let harm = 0;
  if (inc.from < 0) for (let t = Math.max(-60, inc.from); t < 0; t++) harm += incidentHarm(inc, t, m.at(t).n);
  else for (let t = 0; t < inc.from; t++) harm += incidentHarm(inc, t, m.at(t).n, true);
  return harm;
}

/**
 * An oracle's sequential test for a failure regression: the baseline's ratio and the regression's
 * own ratio known, the simple likelihood ratio of the two hypotheses at the rate line over the
 * paid and the free scope, reverting at 20 (95%): the most powerful test there is for this
 * alternative, so no judge that has to find the ratio out does better.
 */
function oracleMinute(traffic: Traffic, grid: TelemetryResult, to: number): number | null {
  const scopes = [
    { slo: 'tasks-success-paid', line: 0.2 * 0.05 },
    { slo: 'tasks-success-free', line: 0.2 * 0.1 },
  ].flatMap(({ slo, line }) => {
    const g = grid.slos[slo]?.grid;
    if (!g) return [];
    const m = minutesOf(g, traffic.deployedAt);
    const p0 = m.baseline.n > 0 ? m.baseline.x / m.baseline.n : 0;
    const p1 = 1 - ((1 - p0) * (1 - to)) / (1 - 0.01);
    return [{ m, q: p0 + line, p1 }];
  });
  let ln = 0;
  for (let k = 0; k < 60; k++) {
    for (const s of scopes) {
      const c = s.m.at(k);
      ln += c.x * Math.log(s.p1 / s.q) + (c.n - c.x) * Math.log((1 - s.p1) / (1 - s.q));
    }
    if (ln >= Math.log(20)) return k + 1;
  }
  return null;
}

async function runCell(index: number): Promise<CellResult> {
  const c = cells[index]!;
  const t0 = performance.now();
  // Seeds by cell, so a cell draws the same deploys whichever others run with it.
  let seed = SEED * 1_000_003 + index * 100_003;
  const minutes: number[] = [];
  const by: Record<string, number> = {};
  const watchesBlind = c.spec.incident !== 'none' && c.spec.canaryShare === undefined;
  const failure = c.spec.regression?.kind === 'failure' && c.spec.canaryShare === undefined;
  const blind = { n: 0, reverted: 0 };
  const oracle = { in10: 0, inWatch: 0 };
  for (let i = 0; i < c.trials; i++) {
    const traffic = drawTraffic(c.spec, seed++);
    const watch = { id: 'q', deployed_at: traffic.deployedAt };
    const request = planReplayRequest(policy, watch);
    const grid = gridResult(request, await new MemorySource('sim', traffic.tasks).fetch(request))!;
    const { replay } = replayDeployment(policy, watch, grid);
    const reverted = replay.verdict === 'revert';
    if (reverted) {
      minutes.push(replay.minute);
      by[replay.slo!] = (by[replay.slo!] ?? 0) + 1;
    }
    if (watchesBlind && blindness(traffic, grid) < 1) {
      blind.n++;
      if (reverted) blind.reverted++;
    }
    if (failure && c.spec.regression?.kind === 'failure') {
      const m = oracleMinute(traffic, grid, c.spec.regression.to);
      if (m !== null) {
        oracle.inWatch++;
        if (m <= 10) oracle.in10++;
      }
    }
  }
  return {
    index,
    n: c.trials,
    minutes: minutes.sort((a, b) => a - b),
    by,
    ...(watchesBlind ? { blind } : {}),
    ...(failure ? { oracle } : {}),
    seconds: (performance.now() - t0) / 1000,
  };
}

if (values.worker !== undefined) {
  for (const i of values.worker.split(',').filter(Boolean).map(Number))
    process.stdout.write(`${JSON.stringify(await runCell(i))}\n`);
  process.exit(0);
}

/** The selected cells over the jobs, heaviest first onto the least loaded. */
function assign(jobs: number): number[][] {
  const load = Array.from({ length: jobs }, () => 0);
  const out: number[][] = Array.from({ length: jobs }, () => []);
  for (const { c, index } of [...selected].sort((a, b) => b.c.cost * b.c.trials - a.c.cost * a.c.trials)) {
    const j = load.indexOf(Math.min(...load));
    out[j]!.push(index);
    load[j]! += c.cost * c.trials;
  }
  return out.filter((x) => x.length > 0);
}

const t0 = performance.now();
const results: CellResult[] = [];
const forward = process.argv
  .slice(2)
  .filter(
    (a, k, all) =>
      !['--jobs', '--out', '--docs'].includes(all[k - 1] ?? '') && !['--jobs', '--out', '--docs'].includes(a),
  );
await Promise.all(
  assign(Math.max(1, Number(values.jobs))).map(
    (part) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [...process.execArgv, process.argv[1]!, ...forward, '--worker', part.join(',')],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          let nl = buf.indexOf('\n');
          while (nl >= 0) {
            const r = JSON.parse(buf.slice(0, nl)) as CellResult;
            buf = buf.slice(nl + 1);
            results.push(r);
            const c = cells[r.index]!;
            process.stdout.write(
              `${nameOf(c)}: ${r.minutes.length}/${r.n} reverted (${r.seconds.toFixed(0)} s; ${((performance.now() - t0) / 1000).toFixed(0)} s in all)\n`,
            );
            nl = buf.indexOf('\n');
          }
        });
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`quality worker exited ${code}`)),
        );
      }),
  ),
);
results.sort((a, b) => a.index - b.index);

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;
const ci = (k: number, n: number) => {
  const w = wilson(k, n);
  return `${pct(k / n)} (${pct(w.low)}–${pct(w.high)})`;
};
const quantile = (xs: number[], q: number) =>
  xs.length === 0 ? null : xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const rows = {
  healthy: [] as string[],
  bad: [] as string[],
  docsHealthy: [] as string[],
  docsBad: [] as string[],
};
const notes: string[] = [];
for (const r of results) {
  const c = cells[r.index]!;
  const k = r.minutes.length;
  const by = Object.entries(r.by)
    .map(([slo, v]) => `${slo} ${v}`)
    .join(', ');
  if (c.group === 'healthy') {
    rows.healthy.push(
      `| ${c.label} | ${c.spec.perMinute}/min | ${r.n} | ${k} | ${ci(k, r.n)} | ${by || '—'} |`,
    );
    rows.docsHealthy.push(`| ${c.label} | ${c.spec.perMinute}/min | ${r.n} | ${ci(k, r.n)} |`);
    if (r.blind)
      notes.push(
        `- ${c.label} (${c.spec.perMinute}/min): in ${r.blind.n} of ${r.n} deploys (${ci(r.blind.n, r.n)}) the incident added under one bad task to the paid scope where it could be told from the deploy (${c.spec.incident === 'in-progress' ? 'in its minutes before the deploy' : 'in the minutes before its onset, had it been there from the deploy on'}); ${r.blind.reverted} of those were reverted. Reverts outside them: ${k - r.blind.reverted} (${ci(k - r.blind.reverted, r.n)}).`,
      );
  } else {
    const in10 = r.minutes.filter((m) => m <= 10).length;
    const mid = `${quantile(r.minutes, 0.5) ?? '—'} / ${quantile(r.minutes, 0.95) ?? '—'}`;
    rows.bad.push(
      `| ${c.label} | ${c.spec.perMinute}/min | ${r.n} | ${ci(k, r.n)} | ${ci(in10, r.n)} | ${mid} |`,
    );
    rows.docsBad.push(`| ${c.label} | ${c.spec.perMinute}/min | ${ci(k, r.n)} | ${ci(in10, r.n)} | ${mid} |`);
    if (r.oracle)
      notes.push(
        `- ${c.label} (${c.spec.perMinute}/min): the oracle test (the regression's ratio and the baseline's known) reverts ${ci(r.oracle.in10, r.n)} within 10 minutes and ${ci(r.oracle.inWatch, r.n)} within the watch; the judge ${ci(in10, r.n)} and ${ci(k, r.n)}.`,
      );
  }
}

const ar = policy.auto_revert;
const seconds = ((performance.now() - t0) / 1000).toFixed(0);
const md = `# Canary judge quality

Generated by \`npm run quality\` (seed ${SEED}; ${HEALTHY} healthy deploys a cell without incident,
${INCIDENT} a cell with one, ${BAD} bad ones; ${values.jobs} processes, ${seconds} s). Each deploy is judged by
\`budget-gate canary --replay\`'s own code (\`replayDeployment\`: the bot's assessment at every minute of
the watch) under examples/error-budget.yml (confidence ${ar.confidence}, burn_rate ${ar.burn_rate}, consumed ${ar.consumed},
baseline ${ar.baseline}, min_events ${ar.min_events}, cluster_by ${ar.cluster_by ?? '—'}, control
${ar.control ? JSON.stringify(ar.control) : '—'}), on traffic from src/scenarios/agent-traffic.ts: paid-tier
tasks at the rate shown (the free tier at a fifth), 40 customers of log-normal sizes, gamma-bursty
arrivals, one customer's bad input (85% of its tasks failing for 1–6 minutes, with client retries)
about once an hour, every failure retried up to four times, a task mix that shifts, and incidents that
ramp up over 1–8 minutes, reach 30–100% of the traffic, fail 15–60% of it (half as 60 s timeouts) and
slow the rest 1–3x. Rates with Wilson 95% intervals.

## Healthy deploys (a false revert is a revert by any SLO)

| case | traffic | deploys | reverted | rate (95% CI) | by SLO |
|---|---|---:|---:|---|---|
${rows.healthy.join('\n')}

## Bad deploys

| regression | traffic | deploys | reverted within the watch (95% CI) | within 10 min (95% CI) | median / p95 min |
|---|---|---:|---|---|---|
${rows.bad.join('\n')}

## What the counts allow

${notes.join('\n')}
`;
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, md);
process.stdout.write(`\nwrote ${values.out}\n`);

// The docs quote the full run only: a partial one (--only, --cells) leaves them as they are.
const docs = (values.docs ?? '').split(',').filter(Boolean);
if (!values.only && !values.cells)
  for (const path of docs) {
    const doc = readFileSync(path, 'utf8');
    const begin = '<!-- quality:begin -->';
    const end = '<!-- quality:end -->';
    const a = doc.indexOf(begin);
    const b = doc.indexOf(end);
    if (a >= 0 && b > a) {
      const table = `${begin}

| healthy deploy | traffic | deploys | false reverts (95% CI) |
| --- | --- | ---: | --- |
${rows.docsHealthy.join('\n')}

| bad deploy | traffic | reverted within the watch (95% CI) | within 10 min (95% CI) | median / p95 min |
| --- | --- | --- | --- | --- |
${rows.docsBad.join('\n')}

`;
      writeFileSync(path, doc.slice(0, a) + table + doc.slice(b));
      process.stdout.write(`rewrote the quality table in ${path}\n`);
    }
  }
// Aligned as the repository's formatter leaves markdown tables, so `npm run lint` stays green.
const biome = join(import.meta.dirname, '../node_modules/.bin/biome');
if (existsSync(biome))
  spawnSync(biome, ['format', '--write', values.out, ...docs], {
    stdio: 'ignore',
  });
