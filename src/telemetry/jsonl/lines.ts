import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

// Lines of a (possibly gzipped) file or pipe, streamed: memory stays flat in the file's size, and
// one line may not grow past MAX_LINE_BYTES however the input is cut.

const GZIP_MAGIC = [0x1f, 0x8b];

/** A task record is a few hundred bytes; a line past this is not one, and holding it costs memory. */
const MAX_LINE_BYTES = 1 << 20;

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
 * Each byte is scanned once (a long line is kept as its pieces until its end arrives), and the
 * text is checked to be UTF-8 a chunk at a time: a byte that is not is an error naming its line,
 * never a silent U+FFFD.
 */
export async function forEachLine(
  stream: AsyncIterable<Buffer | string>,
  onLine: (line: string, n: number) => void,
  maxLineBytes = MAX_LINE_BYTES,
): Promise<number> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let n = 0;
  const tooLong = () =>
    new LineError(n + 1, `longer than ${maxLineBytes} bytes: not a task record (is this a JSONL file?)`);
  /** One line's bytes, checked on their own: the slow path, for joined pieces and bad chunks. */
  const emitBytes = (bytes: Buffer) => {
    n++;
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    if (!isUtf8(bytes)) throw new LineError(n, 'not valid UTF-8');
    onLine(bytes.toString('utf8', 0, end), n);
  };
  /** Whole lines `[from, to)` of a chunk, `to` just past a newline: decoded once, split as text. */
  const emitRegion = (chunk: Buffer, from: number, to: number) => {
    const region = chunk.subarray(from, to);
    if (!isUtf8(region)) {
      for (
        let s = from, nl = chunk.indexOf(NL, s);
        nl !== -1 && nl < to;
        s = nl + 1, nl = chunk.indexOf(NL, s)
      )
        emitBytes(chunk.subarray(s, nl));
      return;
    }
    const text = region.toString('utf8');
    let s = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; s = nl + 1, nl = text.indexOf('\n', s)) {
      // UTF-16 units never outnumber bytes: a line this long in units is too long in bytes.
      if (nl - s > maxLineBytes) throw tooLong();
      n++;
      onLine(text.slice(s, nl > s && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl), n);
    }
  };
  for await (const piece of stream) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    let start = 0;
    if (pending.length > 0) {
      const nl = chunk.indexOf(NL);
      if (nl === -1) {
        pendingBytes += chunk.length;
        if (pendingBytes > maxLineBytes) throw tooLong();
        pending.push(Buffer.from(chunk));
        continue;
      }
      if (pendingBytes + nl > maxLineBytes) throw tooLong();
      pending.push(chunk.subarray(0, nl));
      emitBytes(Buffer.concat(pending, pendingBytes + nl));
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(NL);
    if (last >= start) {
      emitRegion(chunk, start, last + 1);
      start = last + 1;
    }
    if (start < chunk.length) {
      pendingBytes = chunk.length - start;
      if (pendingBytes > maxLineBytes) throw tooLong();
      // Copied: a stream may reuse the chunk's memory once we return.
      pending.push(Buffer.from(chunk.subarray(start)));
    }
  }
  if (pendingBytes > 0) emitBytes(Buffer.concat(pending, pendingBytes));
  return n;
}
