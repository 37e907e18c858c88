import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { decide } from '../../policy/gate/decide.ts';
import type { State } from '../../policy/gate/decision-schema.ts';
import { planRequest } from '../../policy/gate/plan.ts';
import { loadPolicy } from '../../policy/spec/load.ts';
import { burn, pct, STATE_LABEL } from '../../report/format.ts';
import { textChart } from '../../report/text-chart.ts';
import { SCENARIOS, scenarioName } from '../../scenarios/scenarios.ts';
import { generateTasks, type TaskLine } from '../../scenarios/tasks.ts';
import { MemorySource } from '../../telemetry/memory.ts';
import { integerFlag, readPolicy } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';
import { FLEET_USAGE, simulateFleetCommand } from './simulate-fleet.ts';

export const SIMULATE_USAGE = `budget-gate simulate --scenario healthy|rising|on-fire [--target 0.95] [options]
       budget-gate simulate --fleet --out DIR [options]   (see below)

Plays 30 days of generated agent traffic through one success SLO (rolling 30d) and prints the
burn curve, the state day by day, the verdict and the day the budget runs out.
  --target T            success target (default 0.95)
  --tasks-per-day N     traffic (default 10000)
  --seed N              generator seed (default 7)
  --policy FILE         take states and alerts from this policy
  --json                print the simulation as JSON
  --write FILE          also write the month's task records as JSONL telemetry (gzipped when FILE
                        ends in .gz), to try a policy on with evaluate --telemetry FILE

${FLEET_USAGE}`;

/** The generated month as JSONL telemetry (src/telemetry/jsonl), gzipped when the name ends in .gz. */
async function writeTelemetry(io: CliIo, file: string, lines: TaskLine[]): Promise<string> {
  const path = resolve(io.cwd, file);
  // Written in chunks: a write per line is most of the time on 300,000 lines.
  async function* text() {
    for (let i = 0; i < lines.length; i += 5000)
      yield lines
        .slice(i, i + 5000)
        .map((t) => `${JSON.stringify(t)}\n`)
        .join('');
  }
  try {
    await mkdir(dirname(path), { recursive: true });
    const out = createWriteStream(path);
    await (path.endsWith('.gz') ? pipeline(text(), createGzip(), out) : pipeline(text(), out));
  } catch (e) {
    throw new CliError(
      `--write ${file}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  return file;
}

const DAY = 86_400_000;
const MAX_TASKS_PER_DAY = 50_000;
const DAYS = 30;
/** Fixed so two runs of a scenario print the same month. */
const START = Date.parse('2026-10-01T00:00:00Z');

export async function simulateCommand(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--fleet')) return simulateFleetCommand(argv, io);
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string', default: 'healthy' },
      target: { type: 'string', default: '0.95' },
      'tasks-per-day': { type: 'string', default: '10000' },
      seed: { type: 'string', default: '7' },
      policy: { type: 'string' },
      json: { type: 'boolean' },
      write: { type: 'string' },
    },
  });
  const scenario = scenarioName.safeParse(values.scenario);
  if (!scenario.success)
    throw new CliError(`--scenario ${values.scenario}: expected ${scenarioName.options.join(', ')}`);
  const target = /^\s*\d*\.?\d+\s*$/.test(values.target) ? Number(values.target) : Number.NaN;
  if (!(target > 0 && target < 1))
    throw new CliError(`--target ${values.target}: expected a fraction below 1, such as 0.95`);
  // Every simulated task is held in memory for the month: 50,000 a day is 1.5 million records.
  const perDay = integerFlag('--tasks-per-day', values['tasks-per-day'], 1, MAX_TASKS_PER_DAY);
  const seed = integerFlag('--seed', values.seed, 0, 2 ** 31 - 1);

  const base = values.policy ? (await readPolicy(io, values.policy)).policy : null;
  const { policy } = loadPolicy(
    JSON.stringify({
      version: 1,
      slos: [{ name: 'tasks-success', sli: { kind: 'success' }, target, window: '30d', scope: 'all' }],
    }),
    '(simulation)',
  );
  if (base) Object.assign(policy, { states: base.states, alerts: base.alerts });

  const end = START + DAYS * DAY;
  const records = [];
  const lines: TaskLine[] = [];
  for (const t of generateTasks({
    scenario: scenario.data,
    end,
    days: DAYS,
    tasksPerDay: perDay,
    seed,
    target,
  })) {
    if (values.write) lines.push(t);
    records.push({
      time: Date.parse(t.time),
      ok: t.ok,
      latency_ms: t.latency_ms,
      cost_usd: t.cost_usd,
      attrs: t.attrs,
    });
  }
  const source = new MemorySource(`simulation ${scenario.data}`, records);

  const days: { day: number; at: string; consumed: number | null; burn_1d: number | null; state: State }[] =
    [];
  let last = null;
  for (let d = 1; d <= DAYS; d++) {
    const at = START + d * DAY;
    const result = await source.fetch(planRequest(policy, at, { series: d === DAYS ? DAYS : 0 }));
    const decision = decide({
      policy,
      at,
      change: { files: ['prompts/example.md'], labels: [], author: null, last_push_at: null },
      telemetry: { source: source.name, result, error: null },
    });
    const slo = decision.slos[0]!;
    days.push({
      day: d,
      at: decision.evaluated_at,
      consumed: slo.consumed,
      burn_1d: slo.burn_rates['1d'] ?? null,
      state: slo.state,
    });
    last = decision;
  }
  const firstDay = (s: State) => days.find((x) => x.state === s)?.day ?? null;
  const exhausted = days.find((x) => (x.consumed ?? 0) >= 1)?.day ?? null;
  const projected = last!.slos[0]!.projected_exhaustion;
  const verdict = {
    final_state: days.at(-1)!.state,
    soft_pause_from_day: firstDay('soft-pause'),
    hard_pause_from_day: firstDay('hard-pause'),
    budget_exhausted_on_day: exhausted,
    projected_exhaustion: exhausted === null ? projected : null,
  };
  const wrote = values.write ? await writeTelemetry(io, values.write, lines) : null;
  if (values.json) {
    io.stdout(
      `${JSON.stringify({ scenario: scenario.data, target, tasks_per_day: perDay, days, verdict }, null, 2)}\n`,
    );
    return EXIT.allowed;
  }

  const out: string[] = [];
  out.push(`Scenario ${scenario.data}: ${SCENARIOS[scenario.data].summary}`);
  out.push(
    `SLO tasks-success: ${pct(target)} over a rolling 30 days at ${perDay.toLocaleString('en-US')} tasks/day — a budget of about ${Math.round(perDay * DAYS * (1 - target)).toLocaleString('en-US')} failed tasks`,
    '',
    '  day  consumed  burn 1d  state',
  );
  for (const x of days) {
    out.push(
      `  ${String(x.day).padStart(3)}  ${pct(x.consumed).padStart(8)}  ${burn(x.burn_1d).padStart(7)}  ${STATE_LABEL[x.state]}`,
    );
  }
  out.push('', 'Budget consumed over the month');
  out.push(...textChart(last!.slos[0]!, policy.states.soft_pause.consumed));
  out.push('', `Verdict: ${STATE_LABEL[verdict.final_state]} on day ${DAYS}.`);
  if (verdict.soft_pause_from_day)
    out.push(`  SOFT-PAUSE first on day ${verdict.soft_pause_from_day}: prompt and model changes held.`);
  if (verdict.hard_pause_from_day)
    out.push(`  HARD-PAUSE first on day ${verdict.hard_pause_from_day}: nothing ships but reverts.`);
  if (exhausted) out.push(`  The budget ran out on day ${exhausted}.`);
  else if (projected) {
    const day = Math.ceil((Date.parse(projected) - START) / DAY);
    out.push(`  At the current burn the budget runs out on day ${day} (${projected.slice(0, 10)}).`);
  } else out.push('  The budget lasts the window at the current burn.');
  if (wrote)
    out.push(
      '',
      `Wrote ${wrote}: ${lines.length.toLocaleString('en-US')} task records from ${new Date(START).toISOString().slice(0, 10)} to ${new Date(end).toISOString().slice(0, 10)}. Gate a change on them:`,
      `  budget-gate evaluate --policy examples/error-budget.yml --telemetry ${wrote} --at ${new Date(end).toISOString()}`,
    );
  io.stdout(`${out.join('\n')}\n`);
  return EXIT.allowed;
}
