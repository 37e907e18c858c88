import { cleanText } from './clean-text.ts';

// Answers from a server budget-gate does not control (GitHub, a proxy in front of it), read whole
// before anyone parses them, but never more than a cap: a body is counted while it streams in
// (after decompression, so a gzip bomb stops at the cap too) and the connection dropped past it.
// An error answer is cut at a small cap and kept (its status is what matters); a success answer
// past the cap is refused, since a cut one would be wrong data.

/** Why a request got no (usable) answer, in words: never the URL's path or credentials. */
export function networkWhy(e: unknown): string {
  const err = e as { name?: string; cause?: { code?: string; message?: string }; message?: string };
  if (err instanceof AnswerTooLarge) return err.message;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'no answer in time';
  const code = err.cause?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${code}: the name does not resolve (DNS)`;
  if (code === 'ECONNREFUSED') return 'ECONNREFUSED: nothing listens there';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `${code}: the connection was dropped`;
  if (code?.startsWith('ERR_TLS') || code?.includes('CERT'))
    return `${code}: the TLS certificate was refused`;
  if (code) return code;
  return cleanText(err.cause?.message ?? err.message ?? String(e), 120);
}

/** A success answer longer than the cap. */
class AnswerTooLarge extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnswerTooLarge';
  }
}

export interface CapOptions {
  /** How messages name the server: `GitHub`. */
  service: string;
  /** Most bytes of a 2xx (or 3xx) answer; past it the request fails. */
  maxBytes: number;
  /** Most bytes of a 4xx/5xx answer that are kept; the rest is not read. */
  maxErrorBytes: number;
  /** For the request and its body together. */
  timeoutMs: number;
}

async function readBody(res: Response, max: number): Promise<{ bytes: Buffer; over: boolean }> {
  if (!res.body) return { bytes: Buffer.alloc(0), over: false };
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  let over = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.byteLength > max) {
        parts.push(value.subarray(0, max - size));
        size = max;
        over = true;
        break;
      }
      parts.push(value);
      size += value.byteLength;
    }
  } finally {
    if (over) await reader.cancel().catch(() => {});
  }
  return { bytes: Buffer.concat(parts, size), over };
}

/**
 * `fetchFn` with every answer read within the caps and the timeout: the Response it resolves with
 * holds its whole body already. The request's own signal still aborts it.
 */
export function cappedFetch(fetchFn: () => typeof fetch, o: CapOptions): typeof fetch {
  return async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const timeout = AbortSignal.timeout(o.timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const res = await fetchFn()(input, { ...init, signal });
    const error = res.status >= 400;
    const declared = Number(res.headers.get('content-length'));
    if (
      !error &&
      Number.isFinite(declared) &&
      declared > o.maxBytes &&
      !res.headers.get('content-encoding')
    ) {
      await res.body?.cancel().catch(() => {});
      throw new AnswerTooLarge(tooLarge(o, url, declared));
    }
    const { bytes, over } = await readBody(res, error ? o.maxErrorBytes : o.maxBytes);
    if (over && !error) throw new AnswerTooLarge(tooLarge(o, url, null));
    // 1xx and the null-body statuses take no body in a Response.
    const body = [101, 204, 205, 304].includes(res.status)
      ? null
      : error
        ? cleanedError(bytes)
        : new Uint8Array(bytes);
    const copy = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    Object.defineProperty(copy, 'url', { value: res.url });
    return copy;
  };
}

/**
 * An error answer's text is quoted in messages (Octokit makes its `message` the error's): every
 * string in it, or the whole text when it is not JSON, cleaned of escapes and line breaks.
 */
function cleanedError(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  try {
    return JSON.stringify(JSON.parse(text), (_k, v: unknown) => (typeof v === 'string' ? cleanText(v) : v));
  } catch {
    return cleanText(text, 4000);
  }
}

function tooLarge(o: CapOptions, url: URL, declared: number | null): string {
  return declared === null
    ? `${o.service} at ${url.host} answered with more than the ${o.maxBytes} bytes budget-gate reads`
    : `${o.service} at ${url.host} answered with ${declared} bytes, more than the ${o.maxBytes} budget-gate reads`;
}
