import { describe, expect, it } from 'vitest';
import { runProcess } from './run.ts';

// Fuzzing as a test: each target (targets.ts) runs its seeded fast-check property in a child
// process with a 384 MB heap and a kill timer, so an input that exhausts memory or hangs fails
// the test instead of the machine. FUZZ_SEED and FUZZ_RUNS reproduce or deepen a run.

const SEED = Number(process.env.FUZZ_SEED ?? 20261120);
const scale = Number(process.env.FUZZ_RUNS_SCALE ?? 1);
const RUNS = { policy: 800, jsonl: 400, event: 800, audit: 800, metrics: 250 } as const;

describe('fuzz: every generated input ends in exit 0, 1 or 2, a located message, no stack', () => {
  it.each(Object.entries(RUNS))(
    '%s',
    async (target, runs) => {
      const r = await runProcess(
        [
          new URL('./worker.ts', import.meta.url).pathname,
          target,
          String(SEED),
          String(Math.ceil(runs * scale)),
        ],
        { heapMb: 384, killAfterMs: 280_000 },
      );
      expect(r.killed, `${target}: the kill timer fired (a hang?)`).toBe(false);
      expect(r.code, `${target}: the worker died (out of memory?): ${r.stderr.slice(-2000)}`).toBe(0);
      const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      // The figures the closing note asks for: inputs per target and what they did.
      console.log(`fuzz ${target}: ${JSON.stringify(report)}`);
      expect(
        report.failed,
        `${target} seed ${SEED}: ${report.error}\ncounterexample: ${report.counterexample}`,
      ).toBe(false);
      expect(report.runs).toBe(Math.ceil(runs * scale));
    },
    300_000,
  );
});
