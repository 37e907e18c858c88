import { describe, expect, it } from 'vitest';
import { runProcess } from './run.ts';

// Fuzzing as a test: each target (targets.ts, targets-surfaces.ts) runs its seeded fast-check
// property in a child process with a 384 MB heap and a kill timer, so an input that exhausts memory
// or hangs fails the test instead of the machine. FUZZ_SEED and FUZZ_RUNS_SCALE reproduce or
// deepen a run (`npm run fuzz`).

const SEED = Number(process.env.FUZZ_SEED ?? 20261120);
const scale = Number(process.env.FUZZ_RUNS_SCALE ?? 1);
/**
 * Inputs per target inside `npm test`: a few seconds each on a CI machine. `npm run fuzz` runs
 * FUZZ_RUNS_SCALE (default there 25) times as many, with the kill timer scaled to match.
 */
const RUNS = {
  policy: 300,
  jsonl: 120,
  event: 400,
  audit: 300,
  metrics: 40,
  import: 60,
  oncall: 40,
  'audit-report': 40,
  change: 60,
  canary: 40,
  simulate: 30,
  handoff: 30,
  runbooks: 30,
  readiness: 30,
  bot: 80,
} as const;
const KILL_MS = 240_000 * Math.max(1, scale);

describe('fuzz: every generated input ends in exit 0, 1 or 2 (70 is a bug), a located message, no stack, and an answer that keeps its property', () => {
  it.concurrent.each(Object.entries(RUNS))(
    '%s',
    async (target, runs) => {
      const r = await runProcess(
        [
          new URL('./worker.ts', import.meta.url).pathname,
          target,
          String(SEED),
          String(Math.ceil(runs * scale)),
        ],
        { heapMb: 384, killAfterMs: KILL_MS },
      );
      expect(r.killed, `${target}: the kill timer fired (a hang?)`).toBe(false);
      expect(r.code, `${target}: the worker died (out of memory?): ${r.stderr.slice(-2000)}`).toBe(0);
      const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      // The figures the closing note asks for: inputs per target, what they did, and the
      // slowest input's time with the worker's peak memory.
      console.log(`fuzz ${target}: ${JSON.stringify({ ...report, wall_ms: Math.round(r.ms) })}`);
      expect(
        report.failed,
        `${target} seed ${SEED}: ${report.error}\ncounterexample: ${report.counterexample}`,
      ).toBe(false);
      expect(report.runs).toBe(Math.ceil(runs * scale));
    },
    KILL_MS + 20_000,
  );
});
