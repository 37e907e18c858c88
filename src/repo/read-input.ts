import { isUtf8 } from 'node:buffer';
import { closeSync, constants, createReadStream, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';

// One way to read an input file, for every command: a regular file is size-checked before it is
// read; anything else a path can name — a pipe (`<(git diff …)`), a FIFO, `/dev/zero` — is read
// as a stream with the same size cap and a time limit, and opened without blocking, so a FIFO
// nobody writes to cannot hang the command at `open`.

export class InputFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputFileError';
  }
}

export interface InputLimits {
  maxBytes: number;
  /** How long a stream (a pipe, a FIFO, a device) may take to end. */
  timeoutMs: number;
}

const tooBig = (what: string, file: string, max: number) =>
  new InputFileError(`cannot read ${what} ${file}: more than the ${max} bytes a ${what} may have`);

/** What went wrong with a file, in words: `no such file`, `permission denied`, or the error's code. */
export function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ELOOP') return 'too many symbolic links';
  if (code === 'ENOTDIR') return 'a path component is not a directory';
  if (code === 'EISDIR') return 'a directory, not a file';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'EROFS') return 'a read-only file system';
  if (code === 'EEXIST') return 'something else is already there';
  return code ?? (e as Error).message;
}

/** The bytes of `path` (resolved by the caller), within the limits; an InputFileError otherwise. */
async function readInputBytes(
  path: string,
  shown: string,
  what: string,
  limits: InputLimits,
): Promise<Buffer> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (e) {
    throw new InputFileError(`cannot read ${what} ${shown}: ${reason(e)}`);
  }
  if (info.isDirectory()) throw new InputFileError(`cannot read ${what} ${shown}: a directory, not a file`);
  if (info.isFile()) {
    if (info.size > limits.maxBytes)
      throw new InputFileError(
        `cannot read ${what} ${shown}: ${info.size} bytes, more than the ${limits.maxBytes} a ${what} may have`,
      );
    const fh = await open(path, 'r').catch((e) => {
      throw new InputFileError(`cannot read ${what} ${shown}: ${reason(e)}`);
    });
    try {
      // The file may grow between stat and read: read at most one byte past the cap.
      const buf = Buffer.alloc(Math.min(info.size, limits.maxBytes) + 1);
      let n = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
        if (n === buf.length) {
          if (n > limits.maxBytes) throw tooBig(what, shown, limits.maxBytes);
          break;
        }
      }
      return buf.subarray(0, n);
    } finally {
      await fh.close();
    }
  }
  return readStream(path, shown, what, limits, info.isFIFO() || info.isSocket());
}

async function readStream(path: string, shown: string, what: string, limits: InputLimits, pipe: boolean) {
  let fd: number;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer, forever.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new InputFileError(`cannot read ${what} ${shown}: ${reason(e)}`);
  }
  // A pipe goes to a socket handle (libuv polls it), which owns the fd from here; a device is read
  // as a file stream, which closes the fd when destroyed.
  // node:net only for a pipe: loading it costs every other run of the CLI its start-up time.
  const stream = pipe
    ? new (await import('node:net')).Socket({ fd, readable: true, writable: false })
    : createReadStream('', { fd, highWaterMark: 64 << 10 });
  return new Promise<Buffer>((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: Error | null) => {
      clearTimeout(timer);
      stream.removeAllListeners('data');
      stream.destroy();
      if (err) fail(err);
      else done(Buffer.concat(chunks));
    };
    const timer = setTimeout(
      () =>
        finish(
          new InputFileError(
            `cannot read ${what} ${shown}: it did not end within ${limits.timeoutMs / 1000} s (a pipe or FIFO nobody finishes writing?)`,
          ),
        ),
      limits.timeoutMs,
    );
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limits.maxBytes) finish(tooBig(what, shown, limits.maxBytes));
      else chunks.push(c);
    });
    stream.on('end', () => finish(null));
    stream.on('error', (e: Error) =>
      finish(new InputFileError(`cannot read ${what} ${shown}: ${reason(e)}`)),
    );
  });
}

/** UTF-8 text of an input file, a BOM (an editor's habit, not content) removed. */
export async function readInputText(
  path: string,
  shown: string,
  what: string,
  limits: InputLimits,
): Promise<string> {
  const bytes = await readInputBytes(path, shown, what, limits);
  if (!isUtf8(bytes)) throw new InputFileError(`cannot read ${what} ${shown}: not UTF-8 text`);
  return bytes.toString('utf8').replace(/^\uFEFF/, '');
}

/** Where `path` (relative to `root`) really is, or an error when it (or a symlink on the way) leaves `root`. */
export function confinedPath(root: string, path: string, what: string): string {
  const realRoot = realpathSync(root);
  const target = resolve(realRoot, path);
  const inside = (p: string) => {
    const r = relative(realRoot, p);
    return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !r.startsWith(sep));
  };
  if (!inside(target))
    throw new InputFileError(`refused ${what} ${path}: it is outside the repository (${root})`);
  let real: string;
  try {
    real = realpathSync(target);
  } catch (e) {
    throw new InputFileError(`cannot read ${what} ${path}: ${reason(e)}`);
  }
  if (!inside(real))
    throw new InputFileError(`refused ${what} ${path}: a symbolic link that leaves the repository (${root})`);
  return real;
}

/** A repository file for the pure judges: a regular file inside `root`, at most `maxBytes`. */
export function readRepoFileSync(root: string, path: string, what: string, maxBytes: number): string {
  const real = confinedPath(root, path, what);
  const fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new InputFileError(`refused ${what} ${path}: not a regular file`);
    if (info.size > maxBytes)
      throw new InputFileError(
        `refused ${what} ${path}: ${info.size} bytes, more than the ${maxBytes} it may have`,
      );
    const buf = Buffer.alloc(info.size + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, n);
      if (r === 0) break;
      n += r;
      if (n === buf.length)
        throw new InputFileError(`refused ${what} ${path}: it grew past ${maxBytes} bytes while read`);
    }
    if (!isUtf8(buf.subarray(0, n))) throw new InputFileError(`refused ${what} ${path}: not UTF-8 text`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
