// npm run bench [-- --only jsonl,cold-start,...] [--quick]
import { parseArgs } from 'node:util';
import { botScale } from './bot-scale.ts';
import { cliStart } from './cli-start.ts';
import { coldStart } from './cold-start.ts';
import { dashboardPages, dashboardSqlPages } from './dashboard.ts';
import { jsonlThroughput } from './jsonl-throughput.ts';
import { type Figure, printFigures } from './lib/report.ts';
import { requestsPerDecision } from './requests.ts';
import { serviceScale } from './service-scale.ts';
import { timeToRevert } from './time-to-revert.ts';

const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean' } } });
const only = values.only ? new Set(values.only.split(',')) : null;
const quick = values.quick ?? false;

const BENCHES: { name: string; title: string; run: () => Promise<Figure[]> }[] = [
  { name: 'cold-start', title: '1. Gate cold start', run: () => coldStart(quick ? 5 : 15) },
  { name: 'cli-start', title: '1b. CLI cold start', run: () => cliStart(quick ? 5 : 15) },
  { name: 'requests', title: '2. Requests per decision', run: requestsPerDecision },
  {
    name: 'jsonl',
    title: '3. JSONL throughput',
    run: () => jsonlThroughput(quick ? [1e5, 1e6] : [1e5, 1e6, 1e7]),
  },
  {
    name: 'bot',
    title: '4. Bot scale',
    run: () => botScale(quick ? [1, 100, 1000] : [1, 100, 1000, 10_000], quick ? 200 : 1000),
  },
  { name: 'revert', title: '5. Time to revert', run: () => timeToRevert(quick ? 2 : 5) },
  {
    name: 'dashboard',
    title: '6. Dashboard pages',
    run: () => dashboardPages(1000, quick ? 100 : 400),
  },
  {
    name: 'dashboard-sql',
    title: '6b. Dashboard pages from the bot’s store',
    run: () => dashboardSqlPages(1000, quick ? 100 : 400),
  },
  { name: 'service', title: '7. Always-on service scale', run: () => serviceScale(quick ? 200 : 1000) },
];

const cpu = (await import('node:os')).cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(
  `budget-gate benchmarks — node ${process.version}, ${(await import('node:os')).cpus().length} × ${cpu}\n`,
);
const all: Figure[] = [];
for (const b of BENCHES) {
  if (only && !only.has(b.name)) continue;
  const t0 = performance.now();
  const figures = await b.run();
  all.push(...figures);
  printFigures(`${b.title} (${((performance.now() - t0) / 1000).toFixed(0)} s)`, figures, (s) =>
    process.stdout.write(s),
  );
}
const missed = all.filter((f) => f.met === false);
process.stdout.write(
  `\n${all.filter((f) => f.met !== undefined).length - missed.length} targets met, ${missed.length} missed\n`,
);
