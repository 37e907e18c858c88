import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { pct } from '../../policy/gate/explain.ts';
import { parseDuration } from '../../policy/time/duration.ts';
import { DEFAULT_DEPLOYS, simulateFleet } from '../../scenarios/fleet.ts';
import type { RegressionKind } from '../../scenarios/fleet-model.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';
import { progress } from '../progress.ts';

export const FLEET_USAGE = `budget-gate simulate --fleet --out DIR [options]

Seeded fleet traffic for the canary judge: a busy paid scope and a free one under a task a minute,
daily and weekly shape, bursty arrivals, noisy failure ratios, long-tailed latency and cost,
fleet-wide provider outages, and deploys every few hours of which a share are bad. Writes
DIR/telemetry.jsonl (the JSONL telemetry contract) and DIR/truth.json (every deploy, bad or not,
and every outage).
  --days N              length (default 7)
  --start ISO           first minute (default 2026-11-02T00:00:00Z)
  --seed N              generator seed (default 7)
  --every DURATION      mean time between deploys (default 3h)
  --bad-share F         share of deploys that are bad (default 0.2)
  --regression K        failure | latency | cost | mix (default mix)
  --failure-to F        the failure ratio a bad failure deploy steps to (default 0.1)
  --factor X            what a bad latency or cost deploy multiplies by (default 2)
  --outages-per-day F   provider outages a day (default 0.67)`;

const KINDS: Record<string, RegressionKind[]> = {
  failure: ['failure'],
  latency: ['latency'],
  cost: ['cost'],
  mix: ['failure', 'latency', 'cost'],
};

function number(flag: string, v: string, ok: (x: number) => boolean, what: string): number {
  const x = Number(v);
  if (!ok(x)) throw new CliError(`--${flag} ${v}: expected ${what}`);
  return x;
}

export async function simulateFleetCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      fleet: { type: 'boolean' },
      out: { type: 'string' },
      days: { type: 'string', default: '7' },
      start: { type: 'string', default: '2026-11-02T00:00:00Z' },
      seed: { type: 'string', default: '7' },
      every: { type: 'string', default: '3h' },
      'bad-share': { type: 'string', default: '0.2' },
      regression: { type: 'string', default: 'mix' },
      'failure-to': { type: 'string', default: String(DEFAULT_DEPLOYS.failureTo) },
      factor: { type: 'string', default: String(DEFAULT_DEPLOYS.factor) },
      'outages-per-day': { type: 'string', default: String(1 / 1.5) },
    },
  });
  if (!values.out) throw new CliError('--out DIR is required: where telemetry.jsonl and truth.json go');
  const start = Date.parse(values.start);
  if (Number.isNaN(start)) throw new CliError(`--start ${values.start}: expected an ISO time`);
  const every = parseDuration(values.every);
  if (every === null) throw new CliError(`--every ${values.every}: expected a duration such as 3h`);
  const kinds = KINDS[values.regression];
  if (!kinds)
    throw new CliError(`--regression ${values.regression}: expected ${Object.keys(KINDS).join(', ')}`);
  const fleet = simulateFleet({
    start: Math.floor(start / 60_000) * 60_000,
    days: number('days', values.days, (x) => x > 0 && x <= 366, 'a number of days up to 366'),
    seed: number('seed', values.seed, Number.isInteger, 'an integer'),
    outagesPerDay: number('outages-per-day', values['outages-per-day'], (x) => x >= 0, 'a rate of 0 or more'),
    deploys: {
      everyHours: every / 3_600_000,
      badShare: number('bad-share', values['bad-share'], (x) => x >= 0 && x <= 1, 'a share between 0 and 1'),
      kinds,
      failureTo: number(
        'failure-to',
        values['failure-to'],
        (x) => x > 0 && x <= 1,
        'a ratio between 0 and 1',
      ),
      factor: number('factor', values.factor, (x) => x > 0, 'a positive factor'),
    },
  });
  const dir = resolve(io.cwd, values.out);
  mkdirSync(dir, { recursive: true });
  const out = createWriteStream(join(dir, 'telemetry.jsonl'));
  let tasks = 0;
  const from = Date.parse(fleet.truth.start);
  const span = Math.max(1, Date.parse(fleet.truth.end) - from);
  const shown = progress(io, 'simulate --fleet:');
  for (const t of fleet.tasks()) {
    if (!out.write(`${JSON.stringify(t)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    tasks++;
    if (tasks % 1000 === 0)
      shown.update(
        (Date.parse(t.time) - from) / span,
        `${t.time.slice(0, 10)}, ${tasks.toLocaleString('en-US')} tasks`,
      );
  }
  shown.done();
  out.end();
  await finished(out);
  writeFileSync(join(dir, 'truth.json'), `${JSON.stringify(fleet.truth, null, 2)}\n`);
  const t = fleet.truth;
  const bad = t.deploys.filter((d) => d.bad).length;
  io.stdout(
    `${[
      `Fleet ${t.start} → ${t.end} (seed ${t.seed}): ${tasks.toLocaleString('en-US')} tasks over ${t.scopes.map((s) => `${s.name} (${s.perMinute}/min)`).join(', ')}`,
      `  ${t.deploys.length} deploys, ${bad} bad (${pct(t.deploys.length ? bad / t.deploys.length : 0)}); ${t.outages.filter((o) => Date.parse(o.end) > Date.parse(t.start)).length} provider outages`,
      `  ${join(dir, 'telemetry.jsonl')}`,
      `  ${join(dir, 'truth.json')}`,
    ].join('\n')}\n`,
  );
  return EXIT.allowed;
}
