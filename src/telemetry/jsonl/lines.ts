import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

// Lines of a (possibly gzipped) file or pipe, streamed: memory stays flat in the file's size, and
// one line may not grow past MAX_LINE_BYTES however the input is cut.

const GZIP_MAGIC = [0x1f, 0x8b];

/** A task record is a few hundred bytes; a line past this is not one, and holding it costs memory. */
export const MAX_LINE_BYTES = 1 << 20;

/** A line that cannot be read: too long, or not UTF-8. `line` is 1-based. */
export class LineError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(message);
    this.name = 'LineError';
    this.line = line;
  }
}

/**
 * The file's bytes, gunzipped when they start with gzip's magic. The first chunk is peeked rather
 * than the file read at an offset, so a pipe (`-`, /dev/stdin, a FIFO) reads like a file.
 */
export async function openByteStream(path: string): Promise<Readable> {
  // /dev/stdin is opened as the process's own stdin: when that is a socket (a spawning process's
  // pipe often is), opening the path fails where reading the stream works.
  const raw: Readable =
    path === '-' || path === '/dev/stdin'
      ? process.stdin
      : createReadStream(path, { highWaterMark: 1 << 18 });
  const first = await new Promise<Buffer | null>((resolve, reject) => {
    const onReadable = () => {
      cleanup();
      resolve((raw.read() as Buffer | null) ?? null);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      raw.off('readable', onReadable);
      raw.off('end', onEnd);
      raw.off('error', onError);
    };
    raw.once('readable', onReadable);
    raw.once('end', onEnd);
    raw.once('error', onError);
  });
  const out = new PassThrough({ highWaterMark: 1 << 18 });
  if (first === null) {
    out.end();
    return out;
  }
  raw.unshift(first);
  const gz = first.length >= 2 && first[0] === GZIP_MAGIC[0] && first[1] === GZIP_MAGIC[1];
  const stream = gz ? raw.pipe(createGunzip()) : raw;
  if (gz) raw.on('error', (e) => stream.destroy(e));
  return stream;
}

const NL = 10;
const CR = 13;

/**
 * Calls `onLine(line, lineNumber)` for every line (1-based), without building an array of them.
 * Each byte is scanned once (a long line is kept as its pieces until its end arrives), and every
 * line is checked to be UTF-8: a byte that is not is an error naming the line, never U+FFFD.
 */
export async function forEachLine(
  stream: AsyncIterable<Buffer | string>,
  onLine: (line: string, n: number) => void,
  maxLineBytes = MAX_LINE_BYTES,
): Promise<number> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let n = 0;
  const emit = (bytes: Buffer) => {
    n++;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CR) end--;
    const line = end === bytes.length ? bytes : bytes.subarray(0, end);
    if (!isUtf8(line)) throw new LineError(n, 'not valid UTF-8');
    onLine(line.toString('utf8'), n);
  };
  const tooLong = () =>
    new LineError(n + 1, `longer than ${maxLineBytes} bytes: not a task record (is this a JSONL file?)`);
  for await (const piece of stream) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    let start = 0;
    let nl = chunk.indexOf(NL, start);
    while (nl !== -1) {
      if (pendingBytes + (nl - start) > maxLineBytes) throw tooLong();
      if (pending.length > 0) {
        pending.push(chunk.subarray(start, nl));
        emit(Buffer.concat(pending, pendingBytes + (nl - start)));
        pending = [];
        pendingBytes = 0;
      } else {
        emit(chunk.subarray(start, nl));
      }
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxLineBytes) throw tooLong();
      // Copied: a stream may reuse the chunk's memory once we return.
      pending.push(Buffer.from(chunk.subarray(start)));
    }
  }
  if (pendingBytes > 0) emit(Buffer.concat(pending, pendingBytes));
  return n;
}

/** The name the bench and older callers know. */
export const openTextStream = openByteStream;
