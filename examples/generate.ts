// How the demo's month (examples/telemetry/demo.jsonl.gz) was made: realistic agent-task telemetry
// (diurnal traffic, noise, a chosen scenario) as JSONL, gzipped when the file name ends in .gz.
//   node examples/generate.ts --scenario rising --out examples/telemetry/demo.jsonl.gz
// To make telemetry to try a policy on, `budget-gate simulate --scenario … --write FILE` does the
// same wherever the CLI runs (docs/telemetry.md).
//
// Plain JavaScript (no type syntax) in CommonJS (examples/package.json): a Node without TypeScript
// support loads it as JavaScript and it says in one line what it needs, where an ES module would
// stop with ERR_UNKNOWN_FILE_EXTENSION and a stack trace. Node 24 runs it as TypeScript.

if (!process.features.typescript) {
  process.stderr.write(
    `generate: needs a Node that runs TypeScript, 24 or 22.18+ (this is Node ${process.version}): ` +
      'in a clone, `scripts/node24 examples/generate.ts …` fetches Node 24; or make the same telemetry with ' +
      '`budget-gate simulate --scenario rising --write FILE.jsonl.gz`\n',
  );
  process.exit(2);
}

async function main() {
  const { createWriteStream } = await import('node:fs');
  const { mkdir } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const { pipeline } = await import('node:stream/promises');
  const { parseArgs } = await import('node:util');
  const { createGzip } = await import('node:zlib');
  const { DEMO_END } = await import('../src/scenarios/demo.ts');
  const { scenarioName } = await import('../src/scenarios/scenarios.ts');
  const { generateTasks } = await import('../src/scenarios/tasks.ts');

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
  const out = values.out;
  await mkdir(dirname(out), { recursive: true });
  const tasks = generateTasks({
    scenario,
    end: Date.parse(values.end),
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
}

main().catch((e) => {
  process.stderr.write(`generate: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
