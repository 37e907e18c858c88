import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { SqlIncidentStore } from '../store/incidents.ts';
import type { BotLog } from './log.ts';

// PagerDuty's v3 webhooks read back: an acknowledgement or a resolution made in PagerDuty is
// recorded on the incident it names (by the dedup key the bot sent, PagerDuty's `incident_key`).
// Each delivery is signed: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 of the raw
// body with the subscription's secret (several while a secret rotates); one match is enough. The
// secret comes from BUDGET_GATE_PAGERDUTY_WEBHOOK_SECRET; without it the endpoint refuses everything.

const PAGERDUTY_WEBHOOK_PATH = '/pagerduty/webhook';
export const PAGERDUTY_SECRET_ENV = 'BUDGET_GATE_PAGERDUTY_WEBHOOK_SECRET';
const MAX_BODY = 1_000_000;

export function verifyPagerDutySignature(raw: Buffer, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const want = createHmac('sha256', secret).update(raw).digest();
  return header
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .some((s) => {
      const got = Buffer.from(s.slice(3), 'hex');
      return got.length === want.length && timingSafeEqual(got, want);
    });
}

const eventSchema = z.object({
  event: z.object({
    id: z.string(),
    event_type: z.string(),
    occurred_at: z.string(),
    agent: z.object({ id: z.string().optional(), summary: z.string().optional() }).nullable().optional(),
    data: z.object({ incident_key: z.string().nullable().optional(), html_url: z.string().optional() }),
  }),
});

export interface PagerDutyWebhookOptions {
  secret: string | undefined;
  incidents: Pick<SqlIncidentStore, 'byKey' | 'ack' | 'resolve' | 'note'>;
  log: BotLog;
  clock: () => number;
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const answer = (res: ServerResponse, status: number, message: string) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify({ message })}\n`);
};

/** A Probot server handler for POST /pagerduty/webhook (true: answered). */
export function pagerdutyWebhookHandler(o: PagerDutyWebhookOptions) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'POST' || path !== PAGERDUTY_WEBHOOK_PATH) return false;
    if (!o.secret) {
      answer(res, 503, `${PAGERDUTY_SECRET_ENV} is not set: PagerDuty webhooks are refused`);
      return true;
    }
    const raw = await readBody(req);
    if (raw === null) {
      answer(res, 413, 'body too large');
      return true;
    }
    const header = req.headers['x-pagerduty-signature'];
    if (!verifyPagerDutySignature(raw, Array.isArray(header) ? header.join(',') : header, o.secret)) {
      answer(res, 403, 'invalid X-PagerDuty-Signature');
      return true;
    }
    let parsed: z.output<typeof eventSchema>;
    try {
      parsed = eventSchema.parse(JSON.parse(raw.toString('utf8')));
    } catch (e) {
      answer(res, 400, `not a v3 webhook event: ${(e as Error).message.slice(0, 200)}`);
      return true;
    }
    const ev = parsed.event;
    const key = ev.data.incident_key ?? null;
    const inc = key ? await o.incidents.byKey(key) : null;
    // The user id too: a drill's acknowledgement is credited to the member who carries it.
    const who = `${ev.agent?.summary ?? 'someone'} (PagerDuty${ev.agent?.id ? ` ${ev.agent.id}` : ''})`;
    const at = Date.parse(ev.occurred_at) || o.clock();
    if (inc && inc.resolved_at === null) {
      if (ev.event_type === 'incident.acknowledged' && (await o.incidents.ack(inc, at, who))) {
        await o.incidents.note(inc, { at, kind: 'acknowledged', text: `acknowledged by ${who}` });
        o.log.info(`${inc.key}: acknowledged by ${who}`);
      } else if (ev.event_type === 'incident.resolved' && (await o.incidents.resolve(inc, at, who))) {
        await o.incidents.note(inc, { at, kind: 'resolved', text: `resolved by ${who}` });
        o.log.info(`${inc.key}: resolved by ${who}`);
      }
    }
    answer(res, 200, 'ok');
    return true;
  };
}
