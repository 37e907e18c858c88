import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

// Lines of a (possibly gzipped) file, streamed: memory stays flat in the file's size.

const GZIP_MAGIC = [0x1f, 0x8b];

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === GZIP_MAGIC[0] && buf[1] === GZIP_MAGIC[1];
  } finally {
    await fh.close();
  }
}

export async function openTextStream(path: string): Promise<Readable> {
  const gz = await isGzip(path);
  const raw = createReadStream(path, { highWaterMark: 1 << 18 });
  const stream = gz ? raw.pipe(createGunzip()) : raw;
  if (gz) raw.on('error', (e) => stream.destroy(e));
  stream.setEncoding('utf8');
  return stream;
}

/** Calls `onLine(line, lineNumber)` for every line (1-based), without building an array of them. */
export async function forEachLine(
  stream: Readable,
  onLine: (line: string, n: number) => void,
): Promise<number> {
  let rest = '';
  let n = 0;
  for await (const chunk of stream as AsyncIterable<string>) {
    let text = rest + chunk;
    let start = 0;
    let nl = text.indexOf('\n', start);
    while (nl !== -1) {
      n++;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      onLine(text.slice(start, end), n);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    rest = text.slice(start);
    text = '';
  }
  if (rest.length > 0) {
    n++;
    onLine(rest.endsWith('\r') ? rest.slice(0, -1) : rest, n);
  }
  return n;
}
