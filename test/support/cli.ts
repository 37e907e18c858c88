import { runCli } from '../../src/cli/main.ts';
import { DEMO_END } from '../../src/scenarios/demo.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output and a fixed clock (2026-11-20T09:00:00Z unless `now`). */
export async function cli(
  argv: string[],
  opts: { cwd?: string; stdin?: string; env?: Record<string, string>; now?: number } = {},
): Promise<CliRun> {
  const out = { stdout: '', stderr: '' };
  const code = await runCli(argv, {
    stdout: (s) => {
      out.stdout += s;
    },
    stderr: (s) => {
      out.stderr += s;
    },
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
    now: () => opts.now ?? Date.parse('2026-11-20T09:00:00Z'),
    stdin: async () => opts.stdin ?? '',
  });
  return { code, ...out };
}

/** The demo's policy and telemetry, judged at the demo's moment: as CLI arguments. */
export const DEMO_ARGS = [
  '--policy',
  'examples/error-budget.yml',
  '--telemetry',
  'examples/telemetry/demo.jsonl.gz',
  '--at',
  DEMO_END,
];
