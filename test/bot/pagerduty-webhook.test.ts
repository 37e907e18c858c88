import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { collectingLog } from '../../src/bot/log.ts';
import { pagerdutyWebhookHandler, verifyPagerDutySignature } from '../../src/bot/pagerduty-webhook.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { freePort } from '../support/ports.ts';
import { fastBurnPage, T0 } from './support.ts';

// PagerDuty's v3 webhooks, signed as PagerDuty signs them (X-PagerDuty-Signature: v1=<hex>, HMAC-
// SHA256 of the raw body; several during a secret rotation), posted to the bot's handler over HTTP.

const SECRET = 'pd-webhook-secret';
const KEY = 'budget-gate/acme/r0/alert/fast-burn/tasks-success';
const sign = (body: string, secret = SECRET) =>
  `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;

const event = (type: string, key = KEY) =>
  JSON.stringify({
    event: {
      id: '01DEN4HPBQAAAG05V5QQYBRZMF',
      event_type: type,
      resource_type: 'incident',
      occurred_at: '2026-03-02T12:20:00.000Z',
      agent: {
        html_url: 'https://acme.pagerduty.com/users/PLH1HKV',
        id: 'PLH1HKV',
        self: null,
        summary: 'Alice Example',
        type: 'user_reference',
      },
      client: null,
      data: {
        id: 'PGR0VU2',
        type: 'incident',
        self: 'https://api.pagerduty.com/incidents/PGR0VU2',
        html_url: 'https://acme.pagerduty.com/incidents/PGR0VU2',
        number: 2,
        status: type === 'incident.resolved' ? 'resolved' : 'acknowledged',
        incident_key: key,
        title: 'sev1 fast-burn on tasks-success (acme/r0)',
      },
    },
  });

let server: Server | null = null;
afterEach(() => {
  server?.close();
  server = null;
});

async function serve(secret: string | undefined) {
  const store = new SqliteWatchStore(':memory:');
  const handler = pagerdutyWebhookHandler({
    secret,
    incidents: store.incidents,
    log: collectingLog(),
    clock: () => T0,
  });
  server = createServer((req, res) => {
    void handler(req, res).then((done) => {
      if (!done) {
        res.writeHead(404);
        res.end();
      }
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
  const post = (body: string, signature?: string) =>
    fetch(`http://127.0.0.1:${port}/pagerduty/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(signature ? { 'x-pagerduty-signature': signature } : {}),
      },
      body,
    });
  const inc = await store.incidents.open(fastBurnPage(KEY), T0);
  return { store, post, inc };
}

describe('PagerDuty v3 webhooks', () => {
  it('verify any one of the v1 signatures, in constant time', () => {
    const body = Buffer.from(event('incident.acknowledged'));
    expect(verifyPagerDutySignature(body, sign(body.toString()), SECRET)).toBe(true);
    expect(verifyPagerDutySignature(body, `v1=${'0'.repeat(64)},${sign(body.toString())}`, SECRET)).toBe(
      true,
    );
    expect(verifyPagerDutySignature(body, sign(body.toString(), 'old-secret'), SECRET)).toBe(false);
    expect(verifyPagerDutySignature(body, sign(`${body.toString()} `), SECRET)).toBe(false);
    expect(verifyPagerDutySignature(body, undefined, SECRET)).toBe(false);
    expect(verifyPagerDutySignature(body, 'v1=zz', SECRET)).toBe(false);
  });

  it('record the acknowledgement and the resolution; refuse a bad signature and an unset secret', async () => {
    const { store, post, inc } = await serve(SECRET);
    const ack = event('incident.acknowledged');
    expect((await post(ack, sign(ack, 'attacker'))).status).toBe(403);
    expect((await post(ack)).status).toBe(403);
    expect((await store.incidents.get(inc))!.acked_at).toBeNull();
    expect((await post('{"event":{}}', sign('{"event":{}}'))).status).toBe(400);

    expect((await post(ack, sign(ack))).status).toBe(200);
    expect(await store.incidents.get(inc)).toMatchObject({
      acked_at: Date.parse('2026-03-02T12:20:00Z'),
      acked_by: 'Alice Example (PagerDuty PLH1HKV)',
    });
    const resolved = event('incident.resolved');
    expect((await post(resolved, sign(resolved))).status).toBe(200);
    expect(await store.incidents.get(inc)).toMatchObject({
      resolved_by: 'Alice Example (PagerDuty PLH1HKV)',
    });
    expect((await store.incidents.timeline(inc)).map((t) => t.text)).toEqual([
      'acknowledged by Alice Example (PagerDuty PLH1HKV)',
      'resolved by Alice Example (PagerDuty PLH1HKV)',
    ]);
    await store.close();
  });

  it('without BUDGET_GATE_PAGERDUTY_WEBHOOK_SECRET, refuses every delivery with the reason', async () => {
    const { store, post } = await serve(undefined);
    const ack = event('incident.acknowledged');
    const res = await post(ack, sign(ack));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      message: 'BUDGET_GATE_PAGERDUTY_WEBHOOK_SECRET is not set: PagerDuty webhooks are refused',
    });
    await store.close();
  });
});
