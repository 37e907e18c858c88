import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Alerting } from '../../src/bot/alerting.ts';
import { Evaluator } from '../../src/bot/evaluator.ts';
import { IncidentIssues } from '../../src/bot/incident-issue.ts';
import { collectingLog } from '../../src/bot/log.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { setupNock } from '../support/nock.ts';
import { steadyTasks } from '../support/tasks.ts';
import { API, b64, MIN, T0, testClock, writeScenario } from './support.ts';

// Alerts that page by themselves, from the evaluator's stored evaluations: a 40-minute burst of
// failures (50% of tasks) on a Monday at noon UTC fires the fast-burn page and the slow-burn
// ticket. PagerDuty's Events API and the Slack webhook are nock on their exact endpoints.

const SERVICE_POLICY = readFileSync(join(import.meta.dirname, '../fixtures/bot/service-policy.yml'), 'utf8');
const KEY = 'budget-gate/acme/r0/alert/fast-burn/tasks-success';
const SLACK = 'https://hooks.slack.com/services/T1/B1/s3cret';
const env = { PD_ROUTING_KEY: 'R0UT1NGKEY', SLACK_WEBHOOK_URL: SLACK };

/** 0.5% failing, except 50% from T0 for 40 minutes. */
const burst = writeScenario(
  steadyTasks(T0 - 6 * 60 * MIN, T0 + 150 * MIN, 25, (t) => (t >= T0 && t < T0 + 40 * MIN ? 0.5 : 0.005)),
);

function capture(policyText = SERVICE_POLICY) {
  const pd: Array<Record<string, any>> = [];
  const slack: Array<Record<string, any>> = [];
  nock('https://events.pagerduty.com')
    .persist()
    .post('/v2/enqueue', (b) => pd.push(b) > 0)
    .reply(202, { status: 'success', message: 'Event processed', dedup_key: 'x' });
  nock('https://hooks.slack.com')
    .persist()
    .post('/services/T1/B1/s3cret', (b) => slack.push(b) > 0)
    .reply(200, 'ok');
  nock(API)
    .persist()
    .get('/repos/acme/r0/contents/.github%2Ferror-budget.yml')
    .query({ ref: 'main' })
    .reply(
      200,
      { type: 'file', encoding: 'base64', content: b64(policyText), sha: 'b'.repeat(40) },
      { etag: '"v1"' },
    );
  return { pd, slack };
}

async function service(withIssues = false, extraEnv: Record<string, string> = {}) {
  const store = new SqliteWatchStore(':memory:');
  const clock = testClock(T0);
  await store.service.sync(
    7,
    [{ owner: 'acme', repo: 'r0', installation_id: 7, default_branch: 'main' }],
    T0 - MIN,
  );
  const log = collectingLog();
  const hooks = withIssues
    ? { hooks: new IncidentIssues({ store: store.incidents, log, deployments: async () => [] }) }
    : {};
  const alerting = new Alerting({
    incidents: store.incidents,
    ledger: store.ledger,
    env: { ...env, ...extraEnv },
    log,
    ...hooks,
  });
  const evaluator = new Evaluator({
    store: store.service,
    source: new JsonlSource({ path: burst }),
    clock: clock.now,
    replica: 'a',
    leaseMs: 2 * MIN,
    floorMs: 10_000,
    policyPath: '.github/error-budget.yml',
    github: async () =>
      new ProbotOctokit({ auth: { token: 't' }, retry: { enabled: false }, throttle: { enabled: false } }),
    log,
    onEvaluated: (e) => alerting.onEvaluated(e),
  });
  /** Evaluates minute by minute up to `to` (minutes after T0), each a second into its minute. */
  let minute = 0;
  const runTo = async (to: number, each?: (m: number) => Promise<void>) => {
    for (; minute <= to; minute++) {
      clock.set(T0 + minute * MIN + 1_000);
      const r = await evaluator.round();
      expect(r.errors).toEqual([]);
      await each?.(minute);
    }
  };
  return { store, runTo, log };
}

beforeAll(setupNock);
afterEach(() => nock.cleanAll());

describe('alerts from the stored evaluations', () => {
  it('a drill’s record in the store (budget-gate drill) is never escalated, cleared or resolved by the evaluations', async () => {
    capture();
    const { store, runTo } = await service();
    const drill = await store.incidents.open(
      {
        key: 'budget-gate/acme/r0/drill/fast-burn/x',
        repo: 'acme/r0',
        installation_id: 7,
        slo: 'fast-burn',
        alert: 'fast-burn',
        severity: 'sev1',
        action: 'drill',
      },
      T0 - 60 * MIN,
    );
    await store.incidents.note(drill, { at: T0 - 60 * MIN, kind: 'drill', text: 'drill started' });
    await runTo(40);
    expect(await store.incidents.get(drill)).toMatchObject({
      resolved_at: null,
      clear_since: null,
      escalation_step: 0,
    });
    expect((await store.incidents.timeline(drill)).map((t) => t.kind)).toEqual(['drill']);
  });

  it('a page links the runbook in the repository on its default branch, the on-call and the dashboard’s decision', async () => {
    const policy = SERVICE_POLICY.replace(
      'runbook: "https://runbooks.example.com/agents/fast-burn"',
      'runbook: docs/runbooks/fast-burn.md',
    );
    const { pd, slack } = capture(policy);
    const { runTo } = await service(false, {
      DASHBOARD_CALLBACK_URL: 'https://bot.example.com/dashboard/callback',
    });
    await runTo(17);
    expect(pd[0]!.links).toEqual([
      {
        href: 'https://github.com/acme/r0/blob/main/docs/runbooks/fast-burn.md',
        text: 'runbook docs/runbooks/fast-burn.md',
      },
      { href: 'https://bot.example.com/dashboard/r/acme/r0', text: 'budget-gate decision (dashboard)' },
      { href: 'https://github.com/alice', text: 'on call: @alice (primary)' },
      { href: 'https://github.com/bob', text: 'on call: @bob (secondary)' },
    ]);
    expect(slack[0]!.blocks[1].fields.map((f: { text: string }) => f.text.split('\n')[0])).toEqual([
      '*Runbook*',
      '*On call*',
      '*Decision*',
    ]);
    expect(slack[0]!.blocks[1].fields[1].text).toBe('*On call*\n@alice (primary), @bob (secondary)');
  });

  it('page once while the burn lasts, resolve after the short window stays clear, and ticket without paging', async () => {
    const { pd, slack } = capture();
    const { store, runTo } = await service();
    const firedAt: number[] = [];
    await runTo(120, async (m) => {
      if (pd.length > 0 && firedAt.length === 0) firedAt.push(m);
    });
    // Fires once the 1h window reaches 14.4x (minute 17), and one trigger only in the 40 minutes.
    expect(firedAt).toEqual([17]);
    expect(pd.map((b) => [b.event_action, b.dedup_key])).toEqual([
      ['trigger', KEY],
      ['resolve', KEY],
    ]);
    expect(pd[0]).toMatchObject({
      routing_key: 'R0UT1NGKEY',
      payload: {
        severity: 'critical',
        source: 'acme/r0',
        component: 'tasks-success',
        class: 'alert',
        timestamp: new Date(T0 + 17 * MIN + 1_000).toISOString(),
      },
      links: [
        {
          href: 'https://runbooks.example.com/agents/fast-burn',
          text: 'runbook https://runbooks.example.com/agents/fast-burn',
        },
        { href: 'https://github.com/alice', text: 'on call: @alice (primary)' },
        { href: 'https://github.com/bob', text: 'on call: @bob (secondary)' },
      ],
    });
    // No dashboard: the page says where the decision is instead of linking it.
    expect(pd[0]!.payload.custom_details.decision).toMatch(/^not linked: the bot’s dashboard is off/);
    // Nobody acknowledged: escalated to the secondary at +5m and to the lead at +10m.
    expect(slack.map((s) => s.text.split(':')[0])).toEqual([
      'SEV1 paged',
      'Escalated',
      'Escalated',
      'Resolved',
    ]);

    // The slow-burn ticket fired and resolved too (30m clear), and never paged anyone.
    expect(await store.incidents.allOpen()).toEqual([]);
    const slow = (await store.incidents.byKey('budget-gate/acme/r0/alert/slow-burn/tasks-success'))!;
    expect(slow).toMatchObject({ action: 'ticket', severity: 'sev3', resolved_by: 'budget-gate' });
    expect((await store.incidents.timeline(slow)).map((t) => t.kind)).toEqual(['fired', 'clear', 'resolved']);
    const fast = (await store.incidents.byKey(KEY))!;
    expect(fast.resolved_by).toBe('budget-gate');
    const timeline = await store.incidents.timeline(fast);
    expect(timeline.map((t) => [(t.at - T0 - 1_000) / MIN, t.kind])).toEqual([
      [17, 'fired'],
      [17, 'pagerduty-trigger'],
      [17, 'slack'],
      [22, 'escalated'],
      [27, 'escalated'],
      [44, 'clear'],
      [49, 'pagerduty-resolve'],
      [49, 'slack'],
      [49, 'resolved'],
    ]);
    expect(timeline.find((t) => t.kind === 'clear')!.text).toBe(
      "stopped firing; resolves if it stays clear for 5m (the alert's short window)",
    );
    await store.close();
  }, 120_000);

  it('never resolves an acknowledged incident: the recovery is noted, once', async () => {
    const { pd, slack } = capture();
    const { store, runTo } = await service();
    await runTo(20);
    const fast = (await store.incidents.byKey(KEY))!;
    expect(await store.incidents.ack(fast, T0 + 20 * MIN, 'alice')).toBe(true);
    expect(await store.incidents.ack(fast, T0 + 21 * MIN, 'bob')).toBe(false);
    await runTo(80);
    expect(pd.map((b) => b.event_action)).toEqual(['trigger']);
    expect(slack.map((s) => s.text.split(':')[0])).toEqual(['SEV1 paged', 'Recovered']);
    expect(slack[1]!.text).toContain('acknowledged by alice, who closes it');
    const still = (await store.incidents.get(fast))!;
    expect(still).toMatchObject({
      resolved_at: null,
      acked_by: 'alice',
      recovered_at: T0 + 49 * MIN + 1_000,
    });
    await store.close();
  }, 120_000);
});

describe('the incident record on GitHub', () => {
  it('opens an issue per sev1 page and per ticket, keeps its timeline current and closes it at resolution', async () => {
    const { pd } = capture();
    // A body matcher may run more than once per request: requests are counted by the reply.
    const created: Array<Record<string, any>> = [];
    const edits: Array<{ n: number; body: Record<string, any> }> = [];
    let lastBody: Record<string, any> = {};
    const keepBody = (b: typeof lastBody) => {
      lastBody = b;
      return true;
    };
    nock(API)
      .persist()
      .post('/repos/acme/r0/issues', keepBody)
      .reply(201, () => {
        created.push(lastBody);
        return { number: 100 + created.length, html_url: 'https://github.com/acme/r0/issues/x' };
      });
    const comments: Array<Record<string, any>> = [];
    nock(API)
      .persist()
      .post('/repos/acme/r0/issues/101/comments', keepBody)
      .reply(201, () => {
        comments.push(lastBody);
        return { id: comments.length };
      });
    for (const n of [101, 102])
      nock(API)
        .persist()
        .patch(`/repos/acme/r0/issues/${n}`, keepBody)
        .reply(200, () => {
          edits.push({ n, body: lastBody });
          return { number: n };
        });
    const { store, runTo } = await service(true);
    await runTo(120);
    expect(pd.map((b) => b.event_action)).toEqual(['trigger', 'resolve']);
    expect(created.map((c) => [c.title, c.labels])).toEqual([
      ['Incident: sev1 fast-burn on tasks-success', ['incident', 'sev1']],
      ['Ticket: sev3 slow-burn on tasks-success', ['ticket', 'sev3']],
    ]);
    const body = created[0]!.body as string;
    expect(body).toContain('<!-- budget-gate:incident budget-gate/acme/r0/alert/fast-burn/tasks-success -->');
    expect(body).toContain('- Runbook: https://runbooks.example.com/agents/fast-burn');
    expect(body).toContain('- On call: @alice (primary), @bob (secondary)');
    expect(body).toContain('assigning themselves');
    expect(body).toMatch(/- 2026-03-02T12:17:01Z sev1 fast-burn on tasks-success fired: /);
    expect(body).toContain('- 2026-03-02T12:17:01Z paged through PagerDuty (sev1 pages at any hour)');
    // Edited only when the timeline grew: two escalations, clear, then resolution (which closes it).
    const fast = edits.filter((e) => e.n === 101);
    expect(fast.map((e) => e.body.state ?? 'open')).toEqual(['open', 'open', 'open', 'closed']);
    expect(comments.map((c) => c.body)).toEqual([
      '@bob: escalated to @bob (secondary): not acknowledged 5m after the page. Acknowledge by assigning yourself to this issue or commenting on it.',
      '@sre-lead: escalated to @sre-lead (named): not acknowledged 10m after the page. Acknowledge by assigning yourself to this issue or commenting on it.',
    ]);
    expect(fast.at(-1)!.body).toMatchObject({ state: 'closed', state_reason: 'completed' });
    expect(fast.at(-1)!.body.body).toContain('resolved: clear for 5m');
    expect((await store.incidents.byKey('budget-gate/acme/r0/alert/fast-burn/tasks-success'))!).toMatchObject(
      {
        issue_number: 101,
        issue_state: 'closed',
      },
    );
    await store.close();
  }, 120_000);

  it('falls back to the pages and the store when the repository has issues disabled (410)', async () => {
    const { pd } = capture();
    nock(API).post('/repos/acme/r0/issues').twice().reply(410, {
      message: 'Issues are disabled for this repo',
      documentation_url: 'https://docs.github.com/rest/issues/issues#create-an-issue',
      status: '410',
    });
    const { store, runTo } = await service(true);
    await runTo(30);
    expect(pd.map((b) => b.event_action)).toEqual(['trigger']);
    const fast = (await store.incidents.byKey('budget-gate/acme/r0/alert/fast-burn/tasks-success'))!;
    expect(fast).toMatchObject({ issue_number: null, issue_state: 'disabled' });
    expect((await store.incidents.timeline(fast)).map((t) => t.kind)).toEqual([
      'fired',
      'pagerduty-trigger',
      'slack',
      'issue-disabled',
      'escalated',
      'escalated',
    ]);
    await store.close();
  }, 120_000);
});

describe('acknowledgement and escalation', () => {
  it('escalates along the policy path while nobody acknowledges, and stops at the acknowledgement', async () => {
    const { pd, slack } = capture();
    const { store, runTo } = await service();
    await runTo(24);
    const fast = (await store.incidents.byKey(KEY))!;
    expect(fast.escalation_step).toBe(1);
    await store.incidents.ack(fast, T0 + 24 * MIN + 30_000, '@bob');
    await runTo(40);
    const timeline = await store.incidents.timeline(fast);
    expect(
      timeline.filter((t) => t.kind === 'escalated').map((t) => [(t.at - T0 - 1_000) / MIN, t.text]),
    ).toEqual([[22, 'escalated to @bob (secondary): not acknowledged 5m after the page']]);
    expect(slack.map((s) => s.text.split(':')[0])).toEqual(['SEV1 paged', 'Escalated']);
    expect(slack[1]!.text).toContain('escalated to @bob (secondary)');
    expect(pd.map((b) => b.event_action)).toEqual(['trigger']);
    await store.close();
  }, 120_000);

  it('walks the whole path when nobody answers: primary, secondary, then the lead', async () => {
    capture();
    const { store, runTo } = await service();
    await runTo(35);
    const fast = (await store.incidents.byKey(KEY))!;
    expect(fast.escalation_step).toBe(2);
    const esc = (await store.incidents.timeline(fast)).filter((t) => t.kind === 'escalated');
    expect(esc.map((t) => [(t.at - T0 - 1_000) / MIN, t.text])).toEqual([
      [22, 'escalated to @bob (secondary): not acknowledged 5m after the page'],
      [27, 'escalated to @sre-lead (named): not acknowledged 10m after the page'],
    ]);
    await store.close();
  }, 120_000);
});
