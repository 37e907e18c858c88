import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { outputOf } from '../support/child-output.ts';
import { COMPILE_CACHE_ENV } from '../support/compile-cache.ts';

// Runs a process the way a user or the runner would, under limits: a heap cap (an input that
// makes memory grow without bound dies instead of swapping the machine) and a kill timer (one
// that hangs is stopped). Both are generous: they catch exhaustion, not slowness.

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/budget-gate.js', import.meta.url));
export const ACTION = fileURLToPath(new URL('../../src/action/index.ts', import.meta.url));
export const HOSTILE = fileURLToPath(new URL('../fixtures/hostile/', import.meta.url));

export interface Limits {
  heapMb?: number;
  killAfterMs?: number;
}

export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time, for the report: measured, never asserted tightly. */
  ms: number;
  /** The kill timer fired. */
  killed: boolean;
}

export async function runProcess(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; stdin?: string | Buffer } & Limits = {},
): Promise<ProcessRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [`--max-old-space-size=${opts.heapMb ?? 256}`, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', ...COMPILE_CACHE_ENV, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out = outputOf(child);
  child.stdin.on('error', () => {});
  child.stdin.end(opts.stdin ?? '');
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, opts.killAfterMs ?? 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) =>
    child.on('exit', (c, s) => r([c, s])),
  );
  clearTimeout(timer);
  return {
    code,
    signal,
    stdout: out.stdout(),
    stderr: out.stderr(),
    ms: performance.now() - started,
    killed,
  };
}

/** A stack trace's frames, as Node prints them. */
export const STACK = /^\s+at (?:async )?.*(?:file:\/\/|node:|\/)\S*:\d+:\d+\)?$/m;
