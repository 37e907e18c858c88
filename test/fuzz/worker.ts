import fc from 'fast-check';
import { outcomes } from './harness.ts';
import { startMetricsServer, stopMetricsServer, TARGETS } from './targets.ts';
import { botTarget, startBot, stopBot } from './targets-bot.ts';
import { SURFACE_TARGETS } from './targets-surfaces.ts';

// One fuzz target, run by fuzz.test.ts in a child process under a heap cap and a kill timer.
// Prints one JSON line: how many inputs ran, the slowest one (its time, and the heap and resident
// memory after it), and the first failure (shrunk).

const ALL = { ...TARGETS, ...SURFACE_TARGETS, bot: botTarget };
const [name, seedText, runsText] = process.argv.slice(2) as [keyof typeof ALL, string, string];
let slowest = 0;
let started = 0;
let peakHeap = 0;
let peakRss = 0;
const property = (ALL[name] as fc.IAsyncPropertyWithHooks<unknown>)
  .beforeEach(async (previous) => {
    await previous();
    started = performance.now();
  })
  .afterEach(async (previous) => {
    await previous();
    const ms = performance.now() - started;
    slowest = Math.max(slowest, ms);
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  });
if (name === 'metrics') await startMetricsServer();
if (name === 'bot') await startBot();
const details = await fc.check(property, {
  seed: Number(seedText),
  numRuns: Number(runsText),
  endOnFailure: false,
});
if (name === 'metrics') await stopMetricsServer();
if (name === 'bot') await stopBot();
process.stdout.write(
  `${JSON.stringify({
    target: name,
    runs: details.numRuns,
    shrinks: details.numShrinks,
    failed: details.failed,
    counterexample: details.failed ? JSON.stringify(details.counterexample).slice(0, 2000) : null,
    error: details.failed ? String(details.errorInstance).slice(0, 2000) : null,
    outcomes,
    slowest_ms: Math.round(slowest),
    peak_heap_mb: Math.round(peakHeap / 2 ** 20),
    peak_rss_mb: Math.round(peakRss / 2 ** 20),
  })}\n`,
);
process.exit(0);
