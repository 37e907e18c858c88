import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PolicyMissingError, readPolicy as readPolicyFile } from '../gate/read-policy.ts';
import { type LoadedPolicy, PolicyError } from '../policy/load.ts';
import { CliError, type CliIo } from './io.ts';

export async function readText(io: CliIo, file: string, what: string): Promise<string> {
  if (file === '-') {
    if (!io.stdin) throw new CliError(`cannot read ${what} from standard input here`);
    return io.stdin();
  }
  try {
    return await readFile(resolve(io.cwd, file), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      `cannot read ${what} ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
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

/** `--at` as ISO-8601 or epoch ms; the clock otherwise. */
export function parseAt(io: CliIo, at: string | undefined, flag = '--at'): number {
  if (at === undefined) return io.now();
  const ms = /^\d+$/.test(at) ? Number(at) : Date.parse(at);
  if (Number.isNaN(ms))
    throw new CliError(`${flag} ${at}: expected an ISO-8601 time such as 2026-11-20T09:00:00Z`);
  return ms;
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
