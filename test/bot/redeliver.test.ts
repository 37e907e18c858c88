import { Octokit } from '@octokit/core';
import fc from 'fast-check';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { collectingLog } from '../../src/bot/log.ts';
import {
  type DeliveryItem,
  missedDeliveries,
  RECOVERED_EVENTS,
  recoverMissedDeliveries,
} from '../../src/bot/redeliver.ts';
import { assertAllCalled, useNock } from '../support/nock.ts';
import { API } from './support.ts';

// Which webhook deliveries the bot asks again for, and the two calls it makes (list deliveries
// with cursor paging, POST …/attempts), against GitHub's documented shapes.

useNock();

const NOW = Date.parse('2026-03-02T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const item = (o: Partial<DeliveryItem> & { id: number; guid: string }): DeliveryItem => ({
  delivered_at: iso(NOW - 60_000),
  redelivery: false,
  status: 'OK',
  status_code: 200,
  event: 'deployment_status',
  action: 'created',
  ...o,
});

describe('missedDeliveries', () => {
  it('recovers protection rules and override labels too, by event and action (issue 20, attempt 10)', () => {
    const items = [
      item({ id: 1, guid: 'a', status_code: 0, event: 'deployment_protection_rule', action: 'requested' }),
      item({ id: 2, guid: 'b', status_code: 0, event: 'pull_request', action: 'labeled' }),
      item({ id: 3, guid: 'c', status_code: 0, event: 'pull_request', action: 'opened' }),
    ];
    expect(missedDeliveries(items, RECOVERED_EVENTS, NOW - 3_600_000).map((d) => d.id)).toEqual([1, 2]);
  });

  it('a 2xx no handler completed is missed once the grace has passed; a completed one never is', () => {
    // Probot answers 202 to a handler still running; that handler then failed, or the bot died.
    const items = [
      item({ id: 1, guid: 'late', status_code: 202, delivered_at: iso(NOW - 10 * 60_000) }),
      item({ id: 2, guid: 'done', status_code: 202, delivered_at: iso(NOW - 10 * 60_000) }),
      item({ id: 3, guid: 'running', status_code: 202, delivered_at: iso(NOW - 30_000) }),
    ];
    const handled = new Set(['done']);
    expect(
      missedDeliveries(items, RECOVERED_EVENTS, NOW - 3_600_000, { handled, now: NOW }).map((d) => d.id),
    ).toEqual([1]);
    // Without the record (an older store), a 2xx counts as delivered, as before.
    expect(missedDeliveries(items, RECOVERED_EVENTS, NOW - 3_600_000)).toEqual([]);
  });

  it('a recorded delivery id never hides a failed attempt: a failure is asked for again whatever was recorded', () => {
    const items = [item({ id: 1, guid: 'x', status_code: 500 })];
    expect(
      missedDeliveries(items, RECOVERED_EVENTS, NOW - 3_600_000, { handled: new Set(['x']), now: NOW }).map(
        (d) => d.id,
      ),
    ).toEqual([1]);
  });

  it('picks events no attempt of which succeeded, their latest attempt, within the horizon', () => {
    const items = [
      item({ id: 1, guid: 'a', status: 'failed to connect to host', status_code: 0 }),
      item({ id: 2, guid: 'b', status_code: 502, delivered_at: iso(NOW - 120_000) }),
      item({ id: 3, guid: 'b', status_code: 0, redelivery: true, delivered_at: iso(NOW - 30_000) }),
      item({ id: 4, guid: 'c', status_code: 0 }),
      item({ id: 5, guid: 'c', status_code: 200, redelivery: true }),
      item({ id: 6, guid: 'd', status_code: 0, event: 'issues' }),
      item({ id: 7, guid: 'e', status_code: 0, delivered_at: iso(NOW - 5 * 3_600_000) }),
    ];
    expect(missedDeliveries(items, ['deployment_status'], NOW - 3_600_000).map((d) => d.id)).toEqual([1, 3]);
  });

  it('property: one per missed event, never an event that succeeded once', () => {
    const arb = fc.array(
      fc.record({
        guid: fc.constantFrom('a', 'b', 'c', 'd'),
        ok: fc.boolean(),
        at: fc.integer({ min: 0, max: 7_200_000 }),
      }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(arb, (xs) => {
        const items = xs.map((x, i) =>
          item({ id: i + 1, guid: x.guid, status_code: x.ok ? 200 : 0, delivered_at: iso(NOW - x.at) }),
        );
        const since = NOW - 3_600_000;
        const missed = missedDeliveries(items, ['deployment_status'], since);
        const inWindow = items.filter((d) => Date.parse(d.delivered_at) >= since);
        const guids = new Set(inWindow.map((d) => d.guid));
        const expected = [...guids].filter(
          (g) => !inWindow.some((d) => d.guid === g && d.status_code === 200),
        );
        expect(missed.map((d) => d.guid).sort()).toEqual(expected.sort());
        for (const m of missed) {
          const latest = Math.max(
            ...inWindow.filter((d) => d.guid === m.guid).map((d) => Date.parse(d.delivered_at)),
          );
          expect(Date.parse(m.delivered_at)).toBe(latest);
        }
      }),
    );
  });
});

describe('recoverMissedDeliveries', () => {
  it('pages back to the horizon and asks GitHub to deliver each missed event again', async () => {
    const page1 = [
      item({ id: 12, guid: 'ok', delivered_at: iso(NOW - 10_000) }),
      item({
        id: 11,
        guid: 'lost',
        status_code: 0,
        status: 'failed to connect to host',
        delivered_at: iso(NOW - 20_000),
      }),
    ];
    const page2 = [
      item({ id: 10, guid: 'old-lost', status_code: 502, delivered_at: iso(NOW - 30 * 60_000) }),
      item({ id: 9, guid: 'ancient', status_code: 0, delivered_at: iso(NOW - 10 * 3_600_000) }),
    ];
    const attempts: string[] = [];
    nock(API)
      .get('/app/hook/deliveries')
      .query({ per_page: 100 })
      .reply(200, page1, { link: `<${API}/app/hook/deliveries?per_page=100&cursor=v1_11>; rel="next"` })
      .get('/app/hook/deliveries')
      .query({ per_page: 100, cursor: 'v1_11' })
      .reply(200, page2, { link: `<${API}/app/hook/deliveries?per_page=100&cursor=v1_9>; rel="next"` })
      .post('/app/hook/deliveries/10/attempts')
      .reply(202, {})
      .post('/app/hook/deliveries/11/attempts')
      .reply(202, {})
      .on('request', (req: { method: string; path: string }) => attempts.push(`${req.method} ${req.path}`));
    const log = collectingLog();
    const r = await recoverMissedDeliveries(new Octokit({ auth: 'jwt', baseUrl: API }), {
      since: NOW - 3_600_000,
      log,
    });
    assertAllCalled();
    // The second page reached past the horizon: no third page is asked for.
    expect(attempts.filter((a) => a.startsWith('GET'))).toHaveLength(2);
    expect(r.listed).toBe(4);
    expect(r.redelivered.map((d) => d.guid)).toEqual(['old-lost', 'lost']);
    expect(log.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /deployment_status lost was not delivered \(failed to connect to host\).*deliver it again/,
        ),
      ]),
    );
  });
});
