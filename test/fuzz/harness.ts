import { type CliRun, cli as inProcessCli } from '../support/cli.ts';

// What every fuzz target asserts about one run of the CLI, in-process (the worker that runs the
// targets is itself a child process under a heap cap and a kill timer: see fuzz.test.ts).

export const AT_ISO = '2026-11-20T09:00:00Z';
export const AT = Date.parse(AT_ISO);

export type Run = CliRun;

export const cli = (argv: string[], env: Record<string, string> = {}): Promise<Run> =>
  inProcessCli(argv, { env, now: AT });

/** A stack trace's frames, as Node prints them. */
const STACK = /^\s+at (?:async )?.*(?:file:\/\/|node:|\/)\S*:\d+:\d+\)?$/m;

/** Outcomes seen, by target step and exit status, for the report: `lint:2` → 212. */
export const outcomes: Record<string, number> = {};

/** The contract: 0, 1 or 2; a 2 says where; no stack; the top-level handler is never reached. */
export function check(step: string, r: Run, allowed: readonly number[], located: RegExp): void {
  outcomes[`${step}:${r.code}`] = (outcomes[`${step}:${r.code}`] ?? 0) + 1;
  const all = r.stdout + r.stderr;
  if (all.includes('please report this')) throw new Error(`the top-level handler was reached: ${r.stderr}`);
  if (STACK.test(all)) throw new Error(`a stack was printed: ${all.slice(0, 2000)}`);
  if (!allowed.includes(r.code))
    throw new Error(`exit ${r.code}, expected one of ${allowed.join(', ')}: ${r.stderr}`);
  if (r.code === 2 && !located.test(r.stderr))
    throw new Error(`exit 2 without a located message: ${r.stderr}`);
}
