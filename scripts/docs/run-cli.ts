import { runCli } from '../../src/cli/main.ts';

// The `budget-gate` command run in-process, as bin/budget-gate.js runs it but with its output
// captured: what the docs generator writes into generated blocks and what the docs test runs.

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Standard output and error as a terminal shows them, interleaved in the order written. */
  output: string;
}

export interface CliRunOptions {
  cwd: string;
  /** The clock; default the real one. */
  now?: () => number;
  stdin?: string;
  env?: Record<string, string | undefined>;
  /** Stops a command that serves until Ctrl-C (`dashboard`). */
  signal?: AbortSignal;
  /** Called with each write to standard output, as it happens. */
  onStdout?: (s: string) => void;
}

export async function runBudgetGate(argv: string[], opts: CliRunOptions): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  let output = '';
  const code = await runCli(argv, {
    stdout: (s) => {
      stdout += s;
      output += s;
      opts.onStdout?.(s);
    },
    stderr: (s) => {
      stderr += s;
      output += s;
    },
    env: opts.env ?? {},
    cwd: opts.cwd,
    now: opts.now ?? (() => Date.now()),
    stdin: async () => opts.stdin ?? '',
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { code, stdout, stderr, output };
}
