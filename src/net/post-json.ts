import { networkWhy } from './capped-fetch.ts';
import { cleanText } from './clean-text.ts';

// One POST to an outside service (PagerDuty, Slack), as an on-call needs it to behave: retried with
// backoff where a retry can help (429, 5xx, no answer), the answer read only up to a few KiB while
// it streams in, and every message naming the service and its host — never the URL's path, which
// for a Slack webhook is its secret — with what failed and what to check.

export interface PostOptions {
  /** `PagerDuty`, `Slack webhook (SLACK_WEBHOOK_URL)`: how messages name the service. */
  service: string;
  fetchFn?: typeof fetch;
  timeoutMs?: number;
  /** Attempts in all (default 3). */
  attempts?: number;
  /** Waits before the 2nd, 3rd… attempt (ms), unless the answer says Retry-After. */
  backoffMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

export interface PostAnswer {
  status: number;
  /** The first bytes of the answer, cleaned for a log line. */
  text: string;
  attempts: number;
}

/** The most of an answer that is read: enough for an error message, never a whole error page. */
const MAX_ANSWER_BYTES = 4096;
const RETRY_AFTER_MAX_MS = 30_000;

class PostError extends Error {
  readonly status: number | null;
  constructor(message: string, status: number | null) {
    super(message);
    this.name = 'PostError';
    this.status = status;
  }
}

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    // The rest of the answer is not wanted; a cancel that fails only leaves the socket to close.
    await reader.cancel().catch(() => {});
  }
  return cleanText(Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8'), 300);
}

const retryable = (status: number) => status === 429 || status >= 500;

function retryAfterMs(res: Response): number | null {
  const v = res.headers.get('retry-after');
  if (!v) return null;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return Math.min(s * 1000, RETRY_AFTER_MAX_MS);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.min(Math.max(0, at - Date.now()), RETRY_AFTER_MAX_MS);
}

/**
 * Posts `body` as JSON. Resolves with the last answer when it is not worth retrying (a 2xx, or a
 * 4xx other than 429); throws a PostError naming the host when no attempt got an answer.
 */
export async function postJson(url: string, body: unknown, o: PostOptions): Promise<PostAnswer> {
  const fetchFn = o.fetchFn ?? fetch;
  const attempts = o.attempts ?? 3;
  const backoff = o.backoffMs ?? [1000, 4000];
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const host = new URL(url).host;
  let last: PostAnswer | null = null;
  let lastError = '';
  for (let i = 1; i <= attempts; i++) {
    let wait = backoff[Math.min(i - 1, backoff.length - 1)] ?? 0;
    try {
      const res = await fetchFn(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
      });
      last = { status: res.status, text: await readCapped(res), attempts: i };
      if (!retryable(res.status)) return last;
      wait = retryAfterMs(res) ?? wait;
    } catch (e) {
      lastError = `could not reach ${o.service} at ${host} (${networkWhy(e)}): check the network, a proxy (HTTPS_PROXY), or the service's status`;
      last = null;
    }
    if (i < attempts) await sleep(wait);
  }
  if (last) return last;
  throw new PostError(`${lastError}; tried ${attempts} times`, null);
}
