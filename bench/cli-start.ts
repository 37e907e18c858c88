import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Figure, median } from './lib/report.ts';

// 1b. CLI cold start: `budget-gate lint` on the example policy as a fresh process, start to exit,
// against a bare `node -e 0` in the same run, as users run it: through bin/budget-gate.js of an
// installed package (the bundle, build/cli, with V8's compile cache that bin turns on) — cold on
// the first run, warm after — and through the TypeScript sources of a clone on Node 24. `--help`
// is the CLI's own floor: node, bin/budget-gate.js and the bundle's entry, no command loaded.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
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

/** The package as npm installs it: bin/ and build/cli/ under node_modules/budget-gate (a copy). */
function installed(dir: string): string {
  const pkg = join(dir, 'node_modules/budget-gate');
  mkdirSync(pkg, { recursive: true });
  cpSync(join(ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'build/cli'), join(pkg, 'build/cli'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  return join(pkg, 'bin/budget-gate.js');
}

export async function cliStart(runs = 15): Promise<Figure[]> {
  await run([join(ROOT, 'scripts/build-cli.mjs')]);
  const dir = mkdtempSync(join(tmpdir(), 'bg-cli-start-'));
  try {
    const bin = installed(dir);
    const sources = join(ROOT, 'bin/budget-gate.js');
    const cache = join(dir, 'compile-cache');
    const times = {
      bare: [] as number[],
      help: [] as number[],
      cold: [] as number[],
      warm: [] as number[],
      ts: [] as number[],
    };
    await run([bin, 'lint', POLICY]); // warm the OS file cache
    for (let i = 0; i < runs; i++) {
      times.bare.push(await run(['-e', '0']));
      // bin/budget-gate.js turns the compile cache on; NODE_COMPILE_CACHE only says where it lives.
      const fresh = { NODE_COMPILE_CACHE: join(cache, `run-${i}`) };
      times.cold.push(await run([bin, 'lint', POLICY], fresh));
      times.warm.push(await run([bin, 'lint', POLICY], fresh));
      times.help.push(await run([bin, '--help'], fresh));
      times.ts.push(await run([sources, 'lint', POLICY]));
    }
    if (!existsSync(bin)) throw new Error('the installed copy disappeared');
    const b = median(times.bare);
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
      figure('lint, installed package, warm compile cache (every run after the first)', times.warm, 2),
      figure('lint, installed package, cold compile cache (the first run)', times.cold),
      figure(
        '--help, installed package, warm: node, bin and the entry (the floor of any command)',
        times.help,
      ),
      figure('lint, TypeScript sources on Node 24 (a clone of the repository)', times.ts),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
