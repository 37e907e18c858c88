// How the demo's month (examples/telemetry/demo.jsonl.gz) was made: realistic agent-task telemetry
// (diurnal traffic, noise, a chosen scenario) as JSONL, gzipped when the file name ends in .gz.
//   scripts/node24 scripts/demo-telemetry.ts --scenario rising --out examples/telemetry/demo.jsonl.gz
// (scripts/node24 runs it on Node 24 whatever the machine has). To make telemetry to try a policy
// on, users run `budget-gate simulate --scenario … --write FILE` (docs/telemetry.md), which works
// wherever the CLI does.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { DEMO_END } from '../src/scenarios/demo.ts';
import { scenarioName } from '../src/scenarios/scenarios.ts';
import { generateTasks } from '../src/scenarios/tasks.ts';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'rising' },
    out: { type: 'string', default: 'examples/telemetry/demo.jsonl.gz' },
    end: { type: 'string', default: DEMO_END },
    days: { type: 'string', default: '31' },
    'tasks-per-day': { type: 'string', default: '1500' },
    target: { type: 'string', default: '0.95' },
    seed: { type: 'string', default: '42' },
  },
});

const scenario = scenarioName.parse(values.scenario);
const out = values.out!;
await mkdir(dirname(out), { recursive: true });
const tasks = generateTasks({
  scenario,
  end: Date.parse(values.end!),
  days: Number(values.days),
  tasksPerDay: Number(values['tasks-per-day']),
  target: Number(values.target),
  seed: Number(values.seed),
});
async function* lines() {
  for (const t of tasks) yield `${JSON.stringify(t)}\n`;
}
const file = createWriteStream(out);
await (out.endsWith('.gz') ? pipeline(lines(), createGzip({ level: 9 }), file) : pipeline(lines(), file));
process.stderr.write(`wrote ${out} (${scenario})\n`);
