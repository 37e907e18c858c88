import { dirname, resolve } from 'node:path';
import { PolicyMissingError, readPolicy as readPolicyFile } from '../gate/read-policy.ts';
import { type LoadedPolicy, PolicyError } from '../policy/spec/load.ts';
import { InputFileError, readInputText } from '../repo/read-input.ts';
import { FileWriteError, makeDirs, writeTextFile } from '../repo/write-output.ts';
import { MAX_TIME_MS, parseTime } from '../telemetry/jsonl/record.ts';
import { CliError, type CliIo, MAX_TEXT_BYTES } from './io.ts';

/** A pipe, FIFO or device given as an input must end within this. */
const INPUT_TIMEOUT_MS = 60_000;

export async function readText(
  io: CliIo,
  file: string,
  what: string,
  maxBytes = MAX_TEXT_BYTES,
): Promise<string> {
  if (file === '-') {
    if (!io.stdin) throw new CliError(`cannot read ${what} from standard input here`);
    return io.stdin();
  }
  try {
    return await readInputText(resolve(io.cwd, file), file, what, {
      maxBytes,
      timeoutMs: INPUT_TIMEOUT_MS,
    });
  } catch (e) {
    if (e instanceof InputFileError) throw new CliError(e.message);
    throw e;
  }
}

/** Writes what a command produced to the file a flag names; one that cannot be written is a CliError. */
export async function writeOutput(
  io: CliIo,
  file: string,
  text: string,
  flag: string,
  opts: { makeParents?: boolean } = {},
): Promise<void> {
  const path = resolve(io.cwd, file);
  try {
    if (opts.makeParents) await makeDirs(dirname(path), file, flag);
    await writeTextFile(path, file, `${flag}`, text);
  } catch (e) {
    if (e instanceof FileWriteError) throw new CliError(e.message);
    throw e;
  }
}

/** Loads and validates a policy; a malformed one is a CliError listing every located problem. */
export async function readPolicy(io: CliIo, file: string): Promise<LoadedPolicy> {
  try {
    return await readPolicyFile(file, io.cwd, io.stdin ? { stdin: io.stdin } : {});
  } catch (e) {
    if (e instanceof PolicyMissingError) throw new CliError(`cannot read policy ${file}: no such file`);
    if (e instanceof PolicyError) throw new CliError(e.message);
    throw e;
  }
}

/** `--at` (or another time flag, named in the error) as ISO-8601 or epoch ms; the clock otherwise. */
export function parseAt(io: CliIo, at: string | undefined, flag = '--at'): number {
  if (at === undefined) return io.now();
  return parseTimeFlag(flag, at);
}

/**
 * A time flag: epoch milliseconds, ISO-8601 with an offset (`Z` or `±hh:mm`), or a bare date
 * (midnight UTC). A time without an offset would mean a different instant on every machine, and
 * one past year 9999 cannot be printed: both are refused, naming the flag.
 */
function parseTimeFlag(flag: string, value: string): number {
  const s = value.trim();
  let ms = Number.NaN;
  if (/^\d{1,16}$/.test(s)) ms = Number(s);
  else if (/^\d{4}-\d{2}-\d{2}$/.test(s)) ms = parseTime(`${s}T00:00:00Z`);
  else ms = parseTime(s);
  if (Number.isNaN(ms) || ms > MAX_TIME_MS)
    throw new CliError(
      `${flag} ${clip(value)}: expected an ISO-8601 time with an offset such as 2026-11-20T09:00:00Z, or epoch milliseconds`,
    );
  return ms;
}

/** A whole number flag within [min, max], named in the error. */
export function integerFlag(flag: string, value: string, min: number, max: number): number {
  const n = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new CliError(
      `${flag} ${clip(value)}: expected a whole number from ${min} to ${max.toLocaleString('en-US')}`,
    );
  return n;
}

/** User text echoed in a message: one line, and short. */
function clip(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  const line = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return line.length > 60 ? `${line.slice(0, 60)}…` : line;
}

/** Changed files: one path per line (as `git diff --name-only` prints them). */
export async function readChangedFiles(io: CliIo, file: string | undefined): Promise<string[]> {
  if (file === undefined) return [];
  const text = await readText(io, file, 'changed-files list');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}
