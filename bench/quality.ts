// npm run quality [-- --trials N] [--seed N] [--out bench/results/quality.md]
// Thousands of simulated deploys through the canary judge under the shipped example policy: the
// new judge against the old one and the SRE workbook's page, on the same traffic.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { pct } from '../src/policy/gate/explain.ts';
import { loadPolicy } from '../src/policy/spec/load.ts';
import { costOver, latencyOver, type RegressionKind } from '../src/scenarios/fleet-model.ts';
import {
  drawTrial,
  type JudgeSettings,
  newJudgeWatch,
  type OutageCase,
  type TrialSpec,
} from '../src/scenarios/fleet-trials.ts';
import { oldJudgeRevertMinute, srePageMinute } from './quality-judges.ts';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '400' },
    seed: { type: 'string', default: '13' },
    out: { type: 'string', default: join(import.meta.dirname, 'results/quality.md') },
  },
});
const N = Number(values.trials);
const SEED = Number(values.seed);
const examplePath = join(import.meta.dirname, '../examples/error-budget.yml');
const policy = loadPolicy(readFileSync(examplePath, 'utf8'), examplePath).policy;
const ar = policy.auto_revert;
const settings: JudgeSettings = {
  confidence: ar.confidence,
  burnRate: ar.burn_rate,
  consumed: ar.consumed,
  minEvents: ar.min_events,
  baselineMin: ar.baseline.ms / 60_000,
  recentMin: ar.recent.ms / 60_000,
  windowMin: 30 * 1440,
  onsetGuard: true,
};

interface Volume {
  label: string;
  perMinute: number;
  budgetRatio: number;
  baseFailure: number;
  /** SLIs the example policy judges in this scope. */
  slis: RegressionKind[];
  companion?: { perMinute: number; budgetRatio: number; baseFailure: number };
}
/** The fleet's busy paid scope, which the same deploys and outages reach. */
const BUSY = { perMinute: 30, budgetRatio: 0.05, baseFailure: 0.01 };
const VOLUMES: Volume[] = [
  {
    label: 'free, 0.6/min',
    perMinute: 0.6,
    budgetRatio: 0.1,
    baseFailure: 0.03,
    slis: ['failure'],
    companion: BUSY,
  },
  {
    label: 'paid, 5/min',
    perMinute: 5,
    budgetRatio: 0.05,
    baseFailure: 0.01,
    slis: ['failure', 'latency', 'cost'],
  },
  {
    label: 'paid, 30/min',
    perMinute: 30,
    budgetRatio: 0.05,
    baseFailure: 0.01,
    slis: ['failure', 'latency', 'cost'],
  },
];
const LAT2 = latencyOver(2);
const COST2 = costOver(2);
const REGRESSIONS: Array<{ label: string; kind: RegressionKind; size: number }> = [
  { label: 'failures → 40%', kind: 'failure', size: 0.4 },
  { label: 'failures → 10%', kind: 'failure', size: 0.1 },
  { label: 'failures → 5%', kind: 'failure', size: 0.05 },
  { label: `latency ×2 (over 10 s: ${pct(latencyOver(1))} → ${pct(LAT2)})`, kind: 'latency', size: 2 },
  { label: `failures → ${pct(LAT2)} (same burn as latency ×2)`, kind: 'failure', size: LAT2 },
  { label: `cost ×2 (over $0.04: ${pct(costOver(1))} → ${pct(COST2)})`, kind: 'cost', size: 2 },
  { label: `failures → ${pct(COST2)} (same burn as cost ×2)`, kind: 'failure', size: COST2 },
];

type JudgeName = 'new' | 'old' | 'sre';
const JUDGES: JudgeName[] = ['new', 'old', 'sre'];
function revertMinute(j: JudgeName, c: ReturnType<typeof drawTrial>, kind: RegressionKind, spec: TrialSpec) {
  if (j === 'new') return newJudgeWatch(c, kind, spec, settings, false).minute;
  if (j === 'old') return oldJudgeRevertMinute(c, kind, spec);
  return srePageMinute(c, kind, spec);
}
const quantile = (xs: number[], q: number) =>
  xs.length === 0 ? null : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const t0 = performance.now();
let seed = SEED * 1_000_003;
const bad: string[] = [
  '| regression | scope | judge | recall (60 min) | within 10 min | median min | p95 min |',
  '|---|---|---|---:|---:|---:|---:|',
];
const targets: Record<string, number> = {};
const compact: string[] = [
  '| bad deploy | scope | new: recall, median / p95 to revert | old | sre page |',
  '|---|---|---|---|---|',
];
for (const r of REGRESSIONS) {
  for (const v of VOLUMES) {
    if (!v.slis.includes(r.kind)) continue;
    if (v.perMinute < 1 && r.size < 0.1) continue;
    const spec: TrialSpec = {
      perMinute: v.perMinute,
      budgetRatio: v.budgetRatio,
      baseFailure: v.baseFailure,
      regression: { kind: r.kind, size: r.size },
      outage: 'none',
      ...(v.companion ? { companion: v.companion } : {}),
    };
    const minutes: Record<JudgeName, number[]> = { new: [], old: [], sre: [] };
    for (let i = 0; i < N; i++) {
      const c = drawTrial(spec, seed++);
      for (const j of JUDGES) {
        const m = revertMinute(j, c, r.kind, spec);
        if (m !== null) minutes[j].push(m);
      }
    }
    const cell = (j: JudgeName) => {
      const ms = minutes[j];
      return ms.length === 0
        ? `${pct(0)}`
        : `${pct(ms.length / N)}, ${quantile(ms, 0.5)} / ${quantile(ms, 0.95)} min`;
    };
    compact.push(`| ${r.label} | ${v.label} | ${cell('new')} | ${cell('old')} | ${cell('sre')} |`);
    for (const j of JUDGES) {
      const ms = minutes[j];
      const within10 = ms.filter((m) => m <= 10).length / N;
      targets[`${r.label}|${v.label}|${j}|recall`] = ms.length / N;
      targets[`${r.label}|${v.label}|${j}|10`] = within10;
      targets[`${r.label}|${v.label}|${j}|median`] = quantile(ms, 0.5) ?? Number.NaN;
      bad.push(
        `| ${r.label} | ${v.label} | ${j} | ${pct(ms.length / N)} | ${pct(within10)} | ${quantile(ms, 0.5) ?? '—'} | ${quantile(ms, 0.95) ?? '—'} |`,
      );
    }
  }
}

// Healthy deploys: a false revert is a revert by any SLO the scope has.
const H = N * 5;
const CASES: Array<{ outage: OutageCase; label: string; trials: number }> = [
  { outage: 'natural', label: 'outages as the fleet has them', trials: H * 4 },
  { outage: 'none', label: 'no outage', trials: H },
  { outage: 'in-progress', label: 'outage in progress at the deploy', trials: H },
  { outage: 'mid-watch', label: 'outage begins during the watch', trials: H },
];
const healthy: string[] = [
  '| scope | case | judge | trials | false reverts | cause | inconclusive watches |',
  '|---|---|---|---:|---:|---|---:|',
];
const naturalCells: Record<string, string> = {};
const falseTotals: Record<JudgeName, { trials: number; reverts: number }> = {
  new: { trials: 0, reverts: 0 },
  old: { trials: 0, reverts: 0 },
  sre: { trials: 0, reverts: 0 },
};
for (const v of VOLUMES) {
  for (const k of CASES) {
    const spec: TrialSpec = {
      perMinute: v.perMinute,
      budgetRatio: v.budgetRatio,
      baseFailure: v.baseFailure,
      regression: null,
      outage: k.outage,
      ...(v.companion ? { companion: v.companion } : {}),
    };
    const reverts: Record<JudgeName, number> = { new: 0, old: 0, sre: 0 };
    let inconclusive = 0;
    for (let i = 0; i < k.trials; i++) {
      const c = drawTrial(spec, seed++);
      const verdicts = v.slis.map((s) => newJudgeWatch(c, s, spec, settings).status);
      if (verdicts.includes('revert')) reverts.new++;
      else if (verdicts.includes('inconclusive')) inconclusive++;
      for (const j of ['old', 'sre'] as const) {
        if (v.slis.some((s) => revertMinute(j, c, s, spec) !== null)) reverts[j]++;
      }
    }
    const cause =
      k.outage === 'in-progress'
        ? 'outage in progress'
        : k.outage === 'mid-watch'
          ? 'outage began mid-watch'
          : k.outage === 'natural'
            ? 'all of them, at their natural rates'
            : v.perMinute < 1
              ? 'low traffic'
              : 'noise';
    for (const j of JUDGES) {
      if (k.outage === 'natural') {
        falseTotals[j].trials += k.trials;
        falseTotals[j].reverts += reverts[j];
      }
      naturalCells[`${v.label}|${k.label}|${j}`] = `${reverts[j]} (${pct(reverts[j] / k.trials)})`;
      healthy.push(
        `| ${v.label} | ${k.label} | ${j} | ${k.trials} | ${reverts[j]} (${pct(reverts[j] / k.trials)}) | ${cause} | ${j === 'new' ? `${inconclusive} (${pct(inconclusive / k.trials)})` : '—'} |`,
      );
    }
  }
}

const seconds = (performance.now() - t0) / 1000;
const summary = JUDGES.map(
  (j) =>
    `- ${j}: ${falseTotals[j].reverts} false reverts in ${falseTotals[j].trials} healthy deploys with outages at the fleet's rate (${pct(falseTotals[j].reverts / falseTotals[j].trials)}), over the three scopes`,
);
const t = (k: string) => targets[k] ?? Number.NaN;
const check = (ok: boolean) => (ok ? 'met' : '**missed**');
const lat = REGRESSIONS[3]!.label;
const latEq = REGRESSIONS[4]!.label;
const cost = REGRESSIONS[5]!.label;
const costEq = REGRESSIONS[6]!.label;
const goals = [
  ['paid, 5/min', 'paid, 30/min'].map(
    (v) =>
      `- 1% → 40% at ${v}: ${pct(t(`failures → 40%|${v}|new|10`))} reverted within 10 min (target ≥ 99%): ${check(t(`failures → 40%|${v}|new|10`) >= 0.99)}`,
  ),
  ['paid, 5/min', 'paid, 30/min'].map(
    (v) =>
      `- 1% → 10% at ${v}: ${pct(t(`failures → 10%|${v}|new|recall`))} (${Math.round(t(`failures → 10%|${v}|new|recall`) * N)} of ${N}) reverted within the 60-min watch (target ≥ 95%), median ${t(`failures → 10%|${v}|new|median`)} min: ${check(t(`failures → 10%|${v}|new|recall`) >= 0.95)}`,
  ),
  [
    `- false reverts: ${pct(falseTotals.new.reverts / falseTotals.new.trials)} of healthy deploys with outages at the fleet's rate, over the three scopes (target < 0.1%): ${check(falseTotals.new.reverts / falseTotals.new.trials < 0.001)}; by cause in the table below`,
  ],
  ['paid, 5/min', 'paid, 30/min'].map(
    (v) =>
      `- latency ×2 at ${v}: recall ${pct(t(`${lat}|${v}|new|recall`))}, median ${t(`${lat}|${v}|new|median`)} min vs the same-burn failure case ${pct(t(`${latEq}|${v}|new|recall`))}, median ${t(`${latEq}|${v}|new|median`)} min; cost ×2: ${pct(t(`${cost}|${v}|new|recall`))}, median ${t(`${cost}|${v}|new|median`)} min vs ${pct(t(`${costEq}|${v}|new|recall`))}, median ${t(`${costEq}|${v}|new|median`)} min`,
  ),
].flat();
const compactHealthy = [
  '| healthy deploys | scope | new: false reverts | old | sre page |',
  '|---|---|---|---|---|',
  ...CASES.flatMap((k) =>
    VOLUMES.map(
      (v) =>
        `| ${k.label} | ${v.label} | ${naturalCells[`${v.label}|${k.label}|new`]} | ${naturalCells[`${v.label}|${k.label}|old`]} | ${naturalCells[`${v.label}|${k.label}|sre`]} |`,
    ),
  ),
];
const md = [
  '# Canary judge quality',
  '',
  `${N} simulated deploys per regression cell and ${H} per healthy cell (seed ${SEED}), judged every minute of a 60-minute watch under examples/error-budget.yml (confidence ${ar.confidence}, burn_rate ${ar.burn_rate}x, consumed ${pct(ar.consumed)}, baseline ${ar.baseline}, recent ${ar.recent}, min_events ${ar.min_events}). new = this judge; old = the point-estimate judge it replaces (1% of the 30d budget reached, 1h baseline, 50 tasks); sre = the SRE workbook multi-window multi-burn-rate page (14.4x 1h/5m, 6x 6h/30m) read as a revert. Traffic: src/scenarios/fleet-model.ts (diurnal and weekly shape, gamma-Poisson bursts, ±25% minute noise on every bad ratio, log-normal latency and cost, fleet-wide outages of 15–50% failures). ${seconds.toFixed(0)} s.`,
  '',
  '## Targets',
  '',
  ...goals,
  '',
  '## Summary: old judge against new',
  '',
  ...compact,
  '',
  ...compactHealthy,
  '',
  '## Bad deploys',
  '',
  ...bad,
  '',
  '## Healthy deploys',
  '',
  ...healthy,
  '',
  ...summary,
  '',
];
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, md.join('\n'));
process.stdout.write(`${md.join('\n')}\nwritten to ${values.out}\n`);
