import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_END } from '../src/scenarios/demo.ts';
import { generateTasks } from '../src/scenarios/tasks.ts';
import { runNodeJson } from './lib/child.ts';
import { type Figure, median } from './lib/report.ts';

const WORKER = fileURLToPath(new URL('./workers/jsonl-worker.ts', import.meta.url));
const CACHE = join(homedir(), '.cache', 'budget-gate', 'bench');

/** Generated once and cached: 10^7 records is ~1.3 GB and a minute to write. */
async function telemetryFile(records: number): Promise<string> {
  mkdirSync(CACHE, { recursive: true });
  const path = join(CACHE, `tasks-${records}.jsonl`);
  if (existsSync(path)) return path;
  const days = 31;
  const out = createWriteStream(`${path}.tmp`);
  let n = 0;
  for (const t of generateTasks({
    scenario: 'rising',
    end: Date.parse(DEMO_END),
    days,
    tasksPerDay: (records / days) * 1.02,
    seed: 1,
    target: 0.95,
  })) {
    if (n++ >= records) break;
    if (!out.write(`${JSON.stringify(t)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  renameSync(`${path}.tmp`, path);
  return path;
}

interface Run {
  records: number;
  ms: number;
  maxRssKb: number;
  retainedMb: number;
}

export async function jsonlThroughput(sizes = [1e5, 1e6, 1e7]): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const size of sizes) {
    const file = await telemetryFile(size);
    const reps = size >= 1e7 ? 1 : size >= 1e6 ? 3 : 5;
    const base: Run[] = [];
    const evals: Run[] = [];
    for (let i = 0; i < reps; i++) {
      base.push(await runNodeJson<Run>(WORKER, ['baseline', file]));
      evals.push(await runNodeJson<Run>(WORKER, ['evaluate', file, DEMO_END]));
    }
    const records = evals[0]!.records;
    const baseRate = records / (median(base.map((r) => r.ms)) / 1000);
    const evalRate = records / (median(evals.map((r) => r.ms)) / 1000);
    const ratio = evalRate / baseRate;
    figures.push({
      bench: 'jsonl',
      metric: `evaluate throughput, ${size.toExponential(0)} records`,
      value: evalRate,
      unit: 'records/s',
      baseline: { label: 'split + JSON.parse', value: baseRate },
      ratio,
      target: '>= 0.50',
      met: ratio >= 0.5,
    });
    figures.push({
      bench: 'jsonl',
      metric: `evaluate peak RSS, ${size.toExponential(0)} records`,
      value: Math.max(...evals.map((r) => r.maxRssKb)) / 1024,
      unit: 'MiB',
      baseline: { label: 'split + JSON.parse', value: Math.max(...base.map((r) => r.maxRssKb)) / 1024 },
      ratio: Math.max(...evals.map((r) => r.maxRssKb)) / Math.max(...base.map((r) => r.maxRssKb)),
    });
  }
  // Peak RSS follows V8's lazy collection and the allocator, for the baseline as much as for the
  // evaluation; what shows that nothing is kept per record is the heap left after a full GC.
  const retained: number[] = [];
  for (const size of sizes) {
    const run = await runNodeJson<Run>(WORKER, ['evaluate', await telemetryFile(size), DEMO_END], {}, [
      '--expose-gc',
    ]);
    retained.push(run.retainedMb);
    figures.push({
      bench: 'jsonl',
      metric: `heap retained after the evaluation (full GC), ${size.toExponential(0)} records`,
      value: run.retainedMb,
      unit: 'MiB',
    });
  }
  if (retained.length > 1) {
    const growth = retained.at(-1)! / retained[0]!;
    figures.push({
      bench: 'jsonl',
      metric: `retained heap growth from ${sizes[0]!.toExponential(0)} to ${sizes.at(-1)!.toExponential(0)} records`,
      value: growth,
      unit: 'x',
      target: 'flat (<= 1.2x for 100x the data)',
      met: growth <= 1.2,
    });
  }
  return figures;
}
