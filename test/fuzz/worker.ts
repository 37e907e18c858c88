import fc from 'fast-check';
import { outcomes } from './harness.ts';
import { startMetricsServer, stopMetricsServer, TARGETS } from './targets.ts';

// One fuzz target, run by fuzz.test.ts in a child process under a heap cap and a kill timer.
// Prints one JSON line: how many inputs ran, the slowest one, and the first failure (shrunk).

const [name, seedText, runsText] = process.argv.slice(2) as [keyof typeof TARGETS, string, string];
let slowest = 0;
let started = 0;
const property = (TARGETS[name] as fc.IAsyncPropertyWithHooks<unknown>)
  .beforeEach(async (previous) => {
    await previous();
    started = performance.now();
  })
  .afterEach(async (previous) => {
    await previous();
    slowest = Math.max(slowest, performance.now() - started);
  });
if (name === 'metrics') await startMetricsServer();
const details = await fc.check(property, {
  seed: Number(seedText),
  numRuns: Number(runsText),
  endOnFailure: false,
});
if (name === 'metrics') await stopMetricsServer();
const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
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
    heap_mb: Math.round(heapMb),
  })}\n`,
);
process.exit(0);
