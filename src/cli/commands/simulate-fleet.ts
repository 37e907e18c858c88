import { createWriteStream, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { pct } from '../../policy/gate/explain.ts';
import { formatDuration, parseDuration } from '../../policy/time/duration.ts';
import { reason } from '../../repo/read-input.ts';
import { FileWriteError, makeDirs } from '../../repo/write-output.ts';
import { DEFAULT_DEPLOYS, simulateFleet } from '../../scenarios/fleet.ts';
import type { RegressionKind } from '../../scenarios/fleet-model.ts';
import { integerFlag, parseAt, writeOutput } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';
import { progress } from '../progress.ts';

export const FLEET_USAGE = `budget-gate simulate --fleet --out DIR [options]

Seeded fleet traffic for the canary judge: a busy paid scope and a free one under a task a minute,
daily and weekly shape, bursty arrivals, noisy failure ratios, long-tailed latency and cost; 40
customers of log-normal sizes (attrs.customer), one customer's bad input failing most of its tasks
for 1-6 minutes now and then, client retries of failed tasks; task kinds (attrs.kind) whose mix
drifts up to 40% over an hour each day; provider incidents that ramp up over minutes, reach part
of the traffic, slow it and fail some (half as 60 s timeouts); and deploys every few hours of
which a share are bad. Writes DIR/telemetry.jsonl (the JSONL telemetry contract) and
DIR/truth.json (every deploy, bad or not, every incident and bad batch, the mix's drifts).
  --days N              length (default 7; at most 366)
  --start ISO           first minute (default 2026-11-02T00:00:00Z)
  --seed N              generator seed (default 7)
  --every DURATION      mean time between deploys (default 3h; 5m to 30d)
  --bad-share F         share of deploys that are bad (default 0.2)
  --regression K        failure | latency | cost | mix (default mix)
  --failure-to F        the failure ratio a bad failure deploy steps to (default 0.1)
  --factor X            what a bad latency or cost deploy multiplies by (default 2; at most 100)
  --outages-per-day F   provider incidents a day (default 0.67; at most 24)
  --bad-batches-per-hour F
                        one customer's bad input, fleet-wide, this often (default 1; at most 60)
  --canary-share F      after each deploy, label tasks attrs.arm canary (this share) or stable;
                        a bad deploy hits only the canary arm (default: no split)
  --no-retries          clients do not retry failed tasks`;

const KINDS: Record<string, RegressionKind[]> = {
  failure: ['failure'],
  latency: ['latency'],
  cost: ['cost'],
  mix: ['failure', 'latency', 'cost'],
};

function number(flag: string, v: string, ok: (x: number) => boolean, what: string): number {
  const x = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(v) ? Number(v) : Number.NaN;
  if (!ok(x)) throw new CliError(`--${flag} ${clip(v)}: expected ${what}`);
  return x;
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s).replace(/[\r\n]+/g, ' ');

/**
 * Bounds that keep a run to what a machine can hold: every deploy and outage is planned up front
 * (and written to truth.json), so a deploy a millisecond or a billion outages a day would fill
 * memory before the first task was written.
 */
const EVERY = { min: 5 * 60_000, max: 30 * 86_400_000 };
const MAX_OUTAGES_PER_DAY = 24;
/** A batch a minute: every batch is planned up front too. */
const MAX_BATCHES_PER_HOUR = 60;
const MAX_FACTOR = 100;
const MAX_DAYS = 366;
/** The last start that leaves room for the longest run before year 9999. */
const LAST_START = Date.parse('9998-01-01T00:00:00Z');

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
      'bad-batches-per-hour': { type: 'string', default: '1' },
      'canary-share': { type: 'string' },
      'no-retries': { type: 'boolean' },
    },
  });
  if (!values.out) throw new CliError('--out DIR is required: where telemetry.jsonl and truth.json go');
  const start = parseAt(io, values.start, '--start');
  if (start > LAST_START) throw new CliError(`--start ${clip(values.start)}: expected a time before 9998`);
  const every = parseDuration(values.every);
  if (every === null || every < EVERY.min || every > EVERY.max)
    throw new CliError(
      `--every ${clip(values.every)}: expected a duration from ${formatDuration(EVERY.min)} to ${formatDuration(EVERY.max)}, such as 3h`,
    );
  const kinds = KINDS[values.regression];
  if (!kinds)
    throw new CliError(`--regression ${clip(values.regression)}: expected ${Object.keys(KINDS).join(', ')}`);
  const options = {
    start: Math.floor(start / 60_000) * 60_000,
    days: number('days', values.days, (x) => x > 0 && x <= MAX_DAYS, `a number of days up to ${MAX_DAYS}`),
    seed: integerFlag('--seed', values.seed, 0, 2 ** 31 - 1),
    outagesPerDay: number(
      'outages-per-day',
      values['outages-per-day'],
      (x) => x >= 0 && x <= MAX_OUTAGES_PER_DAY,
      `a rate from 0 to ${MAX_OUTAGES_PER_DAY}`,
    ),
    badBatchesPerHour: number(
      'bad-batches-per-hour',
      values['bad-batches-per-hour'],
      (x) => x >= 0 && x <= MAX_BATCHES_PER_HOUR,
      `a rate from 0 to ${MAX_BATCHES_PER_HOUR}`,
    ),
    ...(values['canary-share'] === undefined
      ? {}
      : {
          canaryShare: number(
            'canary-share',
            values['canary-share'],
            (x) => x > 0 && x < 1,
            'a share strictly between 0 and 1',
          ),
        }),
    retries: !values['no-retries'],
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
      factor: number(
        'factor',
        values.factor,
        (x) => x > 0 && x <= MAX_FACTOR,
        `a positive factor up to ${MAX_FACTOR}`,
      ),
    },
  };
  const dir = resolve(io.cwd, values.out);
  try {
    await makeDirs(dir, values.out, '--out');
  } catch (e) {
    if (e instanceof FileWriteError) throw new CliError(e.message);
    throw e;
  }
  const fleet = simulateFleet(options);
  const telemetry = join(dir, 'telemetry.jsonl');
  const out = await openOutput(telemetry, join(values.out, 'telemetry.jsonl'));
  let tasks = 0;
  const from = Date.parse(fleet.truth.start);
  const span = Math.max(1, Date.parse(fleet.truth.end) - from);
  const shown = progress(io, 'simulate --fleet:');
  // A write that fails (a full disk) is said once, naming the file, and ends the run.
  let failed: Error | null = null;
  out.on('error', (e) => {
    failed ??= e;
  });
  for (const t of fleet.tasks()) {
    if (failed) break;
    if (!out.write(`${JSON.stringify(t)}\n`))
      await new Promise<void>((r) => {
        const go = () => {
          out.off('drain', go);
          out.off('error', go);
          r();
        };
        out.on('drain', go);
        out.on('error', go);
      });
    tasks++;
    if (tasks % 1000 === 0)
      shown.update(
        (Date.parse(t.time) - from) / span,
        `${t.time.slice(0, 10)}, ${tasks.toLocaleString('en-US')} tasks`,
      );
  }
  shown.done();
  out.end();
  await finished(out).catch((e: Error) => {
    failed ??= e;
  });
  if (failed)
    throw new CliError(`cannot write --out ${join(values.out, 'telemetry.jsonl')}: ${reason(failed)}`);
  await writeOutput(io, join(dir, 'truth.json'), `${JSON.stringify(fleet.truth, null, 2)}\n`, '--out');
  const t = fleet.truth;
  const bad = t.deploys.filter((d) => d.bad).length;
  io.stdout(
    `${[
      `Fleet ${t.start} → ${t.end} (seed ${t.seed}): ${tasks.toLocaleString('en-US')} tasks over ${t.scopes.map((s) => `${s.name} (${s.perMinute}/min)`).join(', ')}`,
      `  ${t.deploys.length} deploys, ${bad} bad (${pct(t.deploys.length ? bad / t.deploys.length : 0)}); ${count(t.incidents.filter((o) => Date.parse(o.end) > Date.parse(t.start)).length, 'provider incident')}, ${count(t.bad_batches.length, 'bad batch', 'bad batches')}${t.canary_share === null ? '' : `; canary share ${pct(t.canary_share)}`}`,
      `  ${join(dir, 'telemetry.jsonl')}`,
      `  ${join(dir, 'truth.json')}`,
    ].join('\n')}\n`,
  );
  return EXIT.allowed;
}

/** The telemetry file, open for writing: one that cannot be opened is a CliError naming it. */
function openOutput(path: string, shown: string): Promise<WriteStream> {
  return new Promise((done, fail) => {
    const out = createWriteStream(path);
    out.once('ready', () => done(out));
    out.once('error', (e) => fail(new CliError(`cannot write --out ${shown}: ${reason(e)}`)));
  });
}
