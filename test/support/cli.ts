import { runCli } from '../../src/cli/main.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output and a fixed clock. */
export async function cli(
  argv: string[],
  opts: { cwd?: string; stdin?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
    now: () => Date.parse('2026-11-20T09:00:00Z'),
    stdin: async () => opts.stdin ?? '',
  });
  return { code, stdout, stderr };
}
