import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

// The webhook endpoint is reachable by anyone who can reach the bot, and Probot reads a whole body
// into memory before it checks the signature. This guard stands in front of it: a body is counted
// while it streams in, refused at GitHub's own maximum (25 MB), refused when the unverified bytes
// of every request in flight together would pass a budget, and its signature is checked before
// anything parses it. Only a signed body reaches Probot, already read (`rawBody`), so Probot never
// reads the stream itself.

/** GitHub caps webhook payloads at 25 MB and does not deliver larger ones. */
export const GITHUB_MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;

export interface GuardLimits {
  /** One body's cap (default GitHub's 25 MB). */
  maxBodyBytes: number;
  /** Unverified bytes held across every request at once (default 64 MB). */
  maxInFlightBytes: number;
}

export interface GuardStats {
  /** Unverified bytes held now, and the most ever held at once. */
  inFlightBytes: number;
  peakInFlightBytes: number;
  accepted: number;
  tooLarge: number;
  busy: number;
  badSignature: number;
}

/** What Probot's webhook middleware reads instead of the stream (@octokit/webhooks get-payload.js). */
interface PreReadRequest extends IncomingMessage {
  body?: string | Record<string, unknown>;
  rawBody?: Buffer;
}

function signatureMatches(secret: string, body: Uint8Array, header: string | undefined): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const got = Buffer.from(header);
  return got.length === want.length && timingSafeEqual(got, want);
}

export class WebhookGuard {
  private readonly secret: string;
  private readonly path: string;
  private readonly limits: GuardLimits;
  private readonly s: GuardStats = {
    inFlightBytes: 0,
    peakInFlightBytes: 0,
    accepted: 0,
    tooLarge: 0,
    busy: 0,
    badSignature: 0,
  };

  constructor(o: { secret: string; path: string; limits?: Partial<GuardLimits> }) {
    if (!o.secret)
      throw new Error('the webhook secret is not set (WEBHOOK_SECRET): no delivery could be verified');
    this.secret = o.secret;
    this.path = o.path;
    this.limits = {
      maxBodyBytes: o.limits?.maxBodyBytes ?? GITHUB_MAX_PAYLOAD_BYTES,
      maxInFlightBytes: o.limits?.maxInFlightBytes ?? 64 * 1024 * 1024,
    };
  }

  stats(): GuardStats {
    return { ...this.s };
  }

  /**
   * True when the guard answered (a refusal); false when the request is not a webhook delivery,
   * or is one whose signed body is now on `req.rawBody` for Probot to handle.
   */
  admit(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '');
    } catch {
      // `//` or `//%00` is no path relative to a base: refused here, as no handler behind can read it.
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ error: 'malformed request path' })}\n`);
      return Promise.resolve(true);
    }
    if (req.method !== 'POST' || pathname !== this.path.replace(/\/+$/, '')) return Promise.resolve(false);
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (declared > this.limits.maxBodyBytes) {
      this.refuse(req, res, 413, `a webhook body is at most ${this.limits.maxBodyBytes} bytes`);
      this.s.tooLarge++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let held = 0;
      let done = false;
      const release = () => {
        this.s.inFlightBytes -= held;
        held = 0;
        chunks.length = 0;
      };
      const stop = (status: 413 | 503, why: string) => {
        done = true;
        release();
        req.off('data', onData);
        this.refuse(req, res, status, why);
        resolve(true);
      };
      const onData = (chunk: Buffer) => {
        if (done) return;
        if (held + chunk.length > this.limits.maxBodyBytes) {
          this.s.tooLarge++;
          stop(413, `a webhook body is at most ${this.limits.maxBodyBytes} bytes`);
          return;
        }
        if (this.s.inFlightBytes + chunk.length > this.limits.maxInFlightBytes) {
          this.s.busy++;
          stop(503, 'too many unverified webhook bytes in flight: retry later');
          return;
        }
        chunks.push(chunk);
        held += chunk.length;
        this.s.inFlightBytes += chunk.length;
        this.s.peakInFlightBytes = Math.max(this.s.peakInFlightBytes, this.s.inFlightBytes);
      };
      req.on('data', onData);
      req.on('error', () => {
        if (done) return;
        done = true;
        release();
        resolve(true);
      });
      req.on('end', () => {
        if (done) return;
        done = true;
        const body = Buffer.concat(chunks, held);
        const signature = req.headers['x-hub-signature-256'];
        release();
        if (!signatureMatches(this.secret, body, typeof signature === 'string' ? signature : undefined)) {
          this.s.badSignature++;
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(`${JSON.stringify({ error: 'signature does not match' })}\n`);
          resolve(true);
          return;
        }
        this.s.accepted++;
        const pre = req as PreReadRequest;
        pre.rawBody = body;
        pre.body = {};
        resolve(false);
      });
    });
  }

  /** Answers and stops reading: the rest of the body is discarded as it arrives, never held. */
  private refuse(req: IncomingMessage, res: ServerResponse, status: 413 | 503, error: string): void {
    res.writeHead(status, {
      'content-type': 'application/json',
      ...(status === 503 ? { 'retry-after': '5' } : {}),
    });
    res.end(`${JSON.stringify({ error })}\n`);
    let discarded = 0;
    req.on('data', (c: Buffer) => {
      discarded += c.length;
      // A sender that keeps going long after the answer is cut off.
      if (discarded > this.limits.maxBodyBytes) req.destroy();
    });
    req.resume();
  }
}
