import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Figure, median } from './lib/report.ts';

// 1b. CLI cold start: `budget-gate lint` on the example policy as a fresh process, start to exit,
// against a bare `node -e 0` in the same run. Three ways to run it: the TypeScript sources (a
// clone on Node 24), the bundle (an installed package) with a cold compile cache, and the bundle
// with a warm one (every start after the first; bin/budget-gate.js turns the cache on).

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/budget-gate.js');
const BUNDLE = join(ROOT, 'build/cli/budget-gate.mjs');
const POLICY = join(ROOT, 'examples/error-budget.yml');

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: 'ignore', env: { ...process.env, ...env } });
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${args.join(' ')}: exit ${code}`)),
    ),
  );
}

export async function cliStart(runs = 15): Promise<Figure[]> {
  if (!existsSync(BUNDLE)) await run([join(ROOT, 'scripts/build-cli.mjs')]);
  const cache = mkdtempSync(join(tmpdir(), 'bg-compile-cache-'));
  try {
    const bare: number[] = [];
    const sources: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    await run([BIN, 'lint', POLICY]); // warm the OS file cache
    for (let i = 0; i < runs; i++) {
      bare.push(await run(['-e', '0']));
      sources.push(await run([BIN, 'lint', POLICY]));
      // The bundle as an installed package runs it: a fresh cache directory each time, then a warm one.
      const fresh = join(cache, `cold-${i}`);
      cold.push(await run([BUNDLE, 'lint', POLICY], { NODE_COMPILE_CACHE: fresh }));
      warm.push(await run([BUNDLE, 'lint', POLICY], { NODE_COMPILE_CACHE: fresh }));
    }
    const b = median(bare);
    const figure = (metric: string, xs: number[], target?: number): Figure => {
      const v = median(xs);
      return {
        bench: 'cli-start',
        metric,
        value: v,
        unit: 'ms',
        baseline: { label: 'node -e 0', value: b },
        ratio: v / b,
        ...(target !== undefined ? { target: `<= ${target}`, met: v / b <= target } : {}),
      };
    };
    return [
      figure('lint, bundle, warm compile cache (an installed package, every run after the first)', warm, 2),
      figure('lint, bundle, cold compile cache (the first run)', cold),
      figure('lint, TypeScript sources on Node 24 (a clone of the repository)', sources),
    ];
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}
