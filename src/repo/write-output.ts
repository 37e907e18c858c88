import { constants } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { reason } from './read-input.ts';

// Writing what a command produces (`import --out`, `simulate --fleet --out`, the paging ledger):
// a folder that cannot be made, a file that cannot be written, a disk that is full are each one
// sentence naming the path and why, never an internal failure. Folders are made one level at a
// time: Node's `mkdir(…, { recursive: true })` never returns under /proc, where mkdir answers
// ENOENT for a parent that exists.

export class FileWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileWriteError';
  }
}

const isDir = (path: string) =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => null,
  );

/** `dir` and its missing parents, made; a FileWriteError naming `shown` when one cannot be. */
export async function makeDirs(dir: string, shown: string, what: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const there = await isDir(d);
    if (there === true) break;
    if (there === false) throw new FileWriteError(`cannot write ${what} ${shown}: ${d} is not a folder`);
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && (await isDir(d))) continue;
      throw new FileWriteError(`cannot write ${what} ${shown}: cannot make the folder ${d} (${reason(e)})`);
    }
  }
}

/**
 * Writes `text` to `path` (made or truncated, in a folder that exists), a regular file or a device
 * such as /dev/null. A FIFO is refused: opening one to write waits for a reader, forever if none comes.
 */
export async function writeTextFile(path: string, shown: string, what: string, text: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (info?.isDirectory()) throw new FileWriteError(`cannot write ${what} ${shown}: a folder, not a file`);
  if (info?.isFIFO() || info?.isSocket())
    throw new FileWriteError(
      `cannot write ${what} ${shown}: a pipe or socket; name a file (or leave the flag out and redirect standard output)`,
    );
  if (!info && (await isDir(dirname(path))) !== true)
    throw new FileWriteError(`cannot write ${what} ${shown}: no folder ${dirname(path)}`);
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o666);
  } catch (e) {
    throw new FileWriteError(`cannot write ${what} ${shown}: ${reason(e)}`);
  }
  try {
    await fh.writeFile(text);
  } catch (e) {
    throw new FileWriteError(`cannot write ${what} ${shown}: ${reason(e)}`);
  } finally {
    await fh.close().catch(() => {});
  }
}
