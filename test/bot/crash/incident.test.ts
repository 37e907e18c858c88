import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/open.ts';
import { type Recorded, startGitHub } from '../../support/github-server.ts';
import { type LivePrometheus, startLivePrometheus } from '../../support/live-prometheus.ts';
import { type RunningPostgres, startPostgres } from '../../support/postgres.ts';
import { countingProxy } from '../../support/prometheus.ts';
import { tempDir } from '../../support/tasks.ts';
import { fastClock, type TestClock } from '../../support/test-clock.ts';
import { DEPLOYMENT_ID, deploymentStatusPayload } from '../support.ts';
import { type BotProcess, startBot, until } from './bot-process.ts';
import { startFakeApp } from './fake-app.ts';
import { expectPolicyQueries } from './prometheus-queries.ts';

// The always-on service as it runs: `npm run bot` in its own process on a real PostgreSQL and a
// real Prometheus, GitHub played by the local server (the App, its one installation and
// repository, the issues API), PagerDuty's Events API and Slack's webhook played by another local
// server. The burn is the agents' task counter, scraped by Prometheus every second on top of six
// backfilled hours (test/support/live-prometheus.ts), read by the bot with the policy's own
// queries. One incident from the first burn to its end: the page, the incident issue, an
// escalation, the acknowledgement read back from PagerDuty's signed webhook, the recovery noted
// once the burn has stopped and left the short window (never resolved by the bot, since it was
// acknowledged), the resolution in PagerDuty, and the issue closed; two deployments during the
// burn page nobody again. Every request to PagerDuty and Slack is asserted exactly. The bot and
// the agents share a clock that runs four times as fast once Prometheus is up
// (test/support/test-clock.ts): the policy's windows (a 10 s acknowledgement, a one-minute short
// window and its minute clear) are what they say, and pass in a quarter of the time.

const POLICY = readFileSync(
  join(import.meta.dirname, '../../fixtures/bot/service-incident-policy.yml'),
  'utf8',
);
const PD_SECRET = 'pd-webhook-secret';
const KEY = 'budget-gate/Codertocat/Hello-World/alert/fast-burn/tasks-success';
const MIN = 60_000;

let pg: RunningPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

/** 60 tasks a minute, 0.5% failing for six hours, then 60% from half an hour ago until told to stop. */
const burning = (now: number, clock: TestClock) =>
  startLivePrometheus({
    perMinute: 60,
    historyMs: 6 * 60 * MIN,
    failing: (t) => (t >= now - 30 * MIN ? 0.6 : 0.005),
    failingNow: 0.6,
    clock: clock.now,
  });

const sign = (body: string) => `v1=${createHmac('sha256', PD_SECRET).update(body).digest('hex')}`;
const pdEvent = (type: string, at: number) =>
  JSON.stringify({
    event: {
      id: `01EVT${type}`,
      event_type: type,
      resource_type: 'incident',
      occurred_at: new Date(at).toISOString(),
      agent: { id: 'PLH1HKV', summary: 'Alice Example', type: 'user_reference' },
      client: null,
      data: { id: 'PGR0VU2', type: 'incident', number: 2, incident_key: KEY, title: 'fast-burn' },
    },
  });

describe('an incident, end to end, in a real bot process', () => {
  it('pages once, opens the issue, escalates, reads the acknowledgement back, notes the recovery and closes on resolution', async () => {
    const clock = fastClock(4);
    const now = clock.now();
    const telemetry: LivePrometheus = await burning(now, clock);
    clock.start();
    // The bot reads Prometheus through a recording proxy: what it asked is asserted below.
    const prom = await countingProxy(telemetry.url);
    const app = await startFakeApp();
    const vendors = await startGitHub();
    const url = await pg.createDatabase('incident_e2e');
    const store = await openStore(url, '/');
    const bots: BotProcess[] = [];
    try {
      const gh = app.gh;
      gh.route('GET', '/app/installations', [200, [{ id: 1, account: { login: 'Codertocat' } }]]);
      gh.route('GET', '/installation/repositories', [
        200,
        {
          total_count: 1,
          repositories: [
            {
              name: 'Hello-World',
              owner: { login: 'Codertocat' },
              default_branch: 'master',
              archived: false,
            },
          ],
        },
      ]);
      gh.route('GET', '/repos/:owner/:repo/contents/:path', (r) =>
        r.headers['if-none-match'] === '"policy-v1"'
          ? [304, null]
          : [
              200,
              {
                type: 'file',
                encoding: 'base64',
                content: Buffer.from(POLICY).toString('base64'),
                sha: 'p'.repeat(40),
              },
              { etag: '"policy-v1"' },
            ],
      );
      const issues: Array<{ title: string; labels: string[]; body: string }> = [];
      const issueEdits: Array<Record<string, any>> = [];
      gh.route('POST', '/repos/:owner/:repo/issues', (r) => {
        issues.push(r.body);
        return [
          201,
          { number: 500 + issues.length, html_url: 'https://github.com/Codertocat/Hello-World/issues/501' },
        ];
      });
      gh.route('PATCH', '/repos/:owner/:repo/issues/:n', (r) => {
        issueEdits.push({ n: Number(r.params.n), ...r.body });
        return [200, { number: Number(r.params.n) }];
      });
      vendors.route('POST', '/v2/enqueue', [202, { status: 'success', message: 'Event processed' }]);
      vendors.route('POST', '/services/T1/B1/s3cret', [200, 'ok']);

      const bot = startBot({
        githubUrl: gh.url,
        store: url,
        telemetry: { prometheus: prom.url },
        replica: 'svc-1',
        cwd: tempDir('bg-incident-'),
        extra: {
          BUDGET_GATE_EVALUATE_TICK: '1s',
          BUDGET_GATE_EVALUATION_FLOOR: '10s',
          PD_ROUTING_KEY: 'R0UT1NGKEY',
          SLACK_WEBHOOK_URL: `${vendors.url}/services/T1/B1/s3cret`,
          BUDGET_GATE_PAGERDUTY_EVENTS_URL: `${vendors.url}/v2/enqueue`,
          BUDGET_GATE_PAGERDUTY_WEBHOOK_SECRET: PD_SECRET,
          // Leases in the bot's time: 3 s would be under a second of the wall clock.
          BUDGET_GATE_LEASE: '20s',
          ...clock.env(),
        },
      });
      bots.push(bot);
      const sent = () =>
        vendors.requests.map((r: Recorded) =>
          r.path === '/v2/enqueue'
            ? `pd ${r.body.event_action}`
            : `slack ${String(r.body.text).split(':')[0]}`,
        );

      // The first burn: one page, one post, one incident issue.
      await until('the page', async () => vendors.requests.length >= 2 && issues.length === 1, bots, 60_000);
      const trigger = vendors.requests.find((r) => r.path === '/v2/enqueue')!;
      expect(trigger.body).toMatchObject({
        routing_key: 'R0UT1NGKEY',
        event_action: 'trigger',
        dedup_key: KEY,
        payload: {
          severity: 'critical',
          source: 'Codertocat/Hello-World',
          component: 'tasks-success',
          class: 'alert',
        },
        client: 'budget-gate',
      });
      expect(issues[0]).toMatchObject({
        title: 'Incident: sev1 fast-burn on tasks-success',
        labels: ['incident', 'sev1'],
      });
      expect(issues[0]!.body).toContain('- Runbook: https://runbooks.example.com/agents/fast-burn');
      // The page came from Prometheus: the bot asked it with the policy's queries, and the burn
      // it stored is the one Prometheus answers for those queries at that instant.
      const fired = (await store.service.history('Codertocat/Hello-World', 'minute', 0)).find(
        (h) => h.alerts.length > 0,
      )!;
      await expectPolicyQueries(prom, telemetry, fired, ['1m', '1h']);
      expect(fired.slos[0]!.burn_rates['1m']).toBeGreaterThan(14.4);
      expect(fired.slos[0]!.burn_rates['1h']).toBeGreaterThan(14.4);

      // Two deployments go out during the burn: the incident's key names no deployment, so the
      // burn stays one incident and pages no more (the sent list below has one trigger).
      app.webhookUrl = `${bot.url}/api/github/webhooks`;
      for (const [id, ago] of [
        [DEPLOYMENT_ID, 2 * MIN],
        [DEPLOYMENT_ID + 1, MIN],
      ] as const) {
        expect(
          await app.deliver('deployment_status', deploymentStatusPayload({ id, at: clock.now() - ago })),
        ).toBe(200);
      }
      await until('the deployments watched', async () => (await store.list()).length === 2, bots, 30_000);
      // Two evaluations after both went out, the burn still firing: still the one incident and page.
      const evaluated = async () => (await store.service.get('Codertocat/Hello-World'))!.last_evaluated_at!;
      const since = clock.now();
      const first = await until(
        'an evaluation after the deployments',
        async () => (await evaluated()) > since && (await evaluated()),
        bots,
        30_000,
      );
      await until('another', async () => (await evaluated()) > first, bots, 30_000);
      expect(
        vendors.requests.filter((r) => r.path === '/v2/enqueue').map((r) => r.body.event_action),
      ).toEqual(['trigger']);
      expect(issues).toHaveLength(1);

      // Nobody acknowledges within the 10s window: escalated to the secondary, on the issue too.
      const escalation = await until(
        'the escalation',
        async () =>
          app.gh.requests.find((r) => r.method === 'POST' && /\/issues\/501\/comments$/.test(r.path)) ?? null,
        bots,
        60_000,
      );
      // This week's secondary (the rotation runs on the wall clock here).
      expect(escalation.body.body).toMatch(/^@(alice|bob): escalated to @\1 \(secondary\): not acknowledged/);

      // PagerDuty says Alice acknowledged it; a forged delivery is refused first.
      const ackAt = clock.now();
      const ack = pdEvent('incident.acknowledged', ackAt);
      const forged = await fetch(`${bot.url}/pagerduty/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-pagerduty-signature': `v1=${'0'.repeat(64)}` },
        body: ack,
      });
      expect(forged.status).toBe(403);
      const res = await fetch(`${bot.url}/pagerduty/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-pagerduty-signature': sign(ack) },
        body: ack,
      });
      expect(res.status).toBe(200);
      const acked = (await store.incidents.byKey(KEY))!;
      expect(acked).toMatchObject({ acked_by: 'Alice Example (PagerDuty PLH1HKV)', resolved_at: null });

      // The burn stops: the agents fail at 0.5% again from now on. Once the burn has left the 1m
      // short window the alert stops firing, and after a further minute clear the incident has
      // recovered: acknowledged, so noted, not resolved.
      const stoppedAt = clock.now();
      telemetry.setFailing(0.005);
      await until(
        'the recovery note',
        async () => (await store.incidents.byKey(KEY))?.recovered_at,
        bots,
        240_000,
      );
      const recovered = (await store.incidents.byKey(KEY))!;
      // Not before the short window had emptied of the burn and stayed clear for its length.
      expect(recovered.clear_since! - stoppedAt).toBeGreaterThan(0);
      expect(recovered.recovered_at! - recovered.clear_since!).toBeGreaterThanOrEqual(MIN);
      expect((await store.incidents.byKey(KEY))!.resolved_at).toBeNull();

      // Alice resolves it in PagerDuty: the bot records it and closes the issue.
      const resolved = pdEvent('incident.resolved', clock.now());
      await fetch(`${bot.url}/pagerduty/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-pagerduty-signature': sign(resolved) },
        body: resolved,
      });
      await until('the issue closed', async () => issueEdits.find((e) => e.state === 'closed'), bots, 60_000);
      await until('the ledger closed', async () => sent().at(-1) === 'slack Resolved', bots, 60_000);

      // Exactly these pages and posts, in this order: the same burn paged once.
      expect(sent()).toEqual([
        'pd trigger',
        'slack SEV1 paged',
        'slack Escalated',
        'slack Recovered',
        'pd resolve',
        'slack Resolved',
      ]);
      const timeline = (await store.incidents.timeline(acked)).map((t) => t.kind);
      expect(timeline).toEqual([
        'fired',
        'pagerduty-trigger',
        'slack',
        'issue',
        'escalated',
        'acknowledged',
        'clear',
        'recovered',
        'resolved',
      ]);
      expect(issueEdits.at(-1)).toMatchObject({ n: 501, state: 'closed', state_reason: 'completed' });
      expect(issueEdits.at(-1)!.body).toContain('Acknowledged by Alice Example (PagerDuty PLH1HKV)');
      expect(issueEdits.at(-1)!.body).toMatch(
        new RegExp(`deployment ${DEPLOYMENT_ID} \\(f95f852\\) to production`),
      );
      expect(await bot.stop()).toBe(0);
    } finally {
      for (const b of bots)
        if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL');
      await Promise.all(bots.map((b) => b.exited));
      await store.close();
      await app.close();
      await vendors.close();
      await prom.close();
      await telemetry.stop();
    }
  }, 480_000);
});
