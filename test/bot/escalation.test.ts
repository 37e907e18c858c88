import { Octokit } from '@octokit/core';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { Escalator } from '../../src/bot/escalation.ts';
import { collectingLog } from '../../src/bot/log.ts';
import { Watcher } from '../../src/bot/watcher.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { assertAllCalled, useNock } from '../support/nock.ts';
import { tempDir } from '../support/tasks.ts';
import { firstBreachMinute } from './oracle.ts';
import {
  API,
  MIN,
  newWatch,
  POLICY_TEXT,
  REPO_PATH,
  recordingReverter,
  scenarioTasks,
  T0,
  testClock,
  writeScenario,
} from './support.ts';

// T0 is Monday 2026-03-02 12:00Z, 13:00 in Berlin: alice's shift (started that morning at 09:00),
// business hours, so she has 5 minutes, bob (secondary) 10 more, then sre-lead, then director.
const ROTATION_POLICY = POLICY_TEXT.replace(
  /oncall:\n(?: {2}.*\n)+/,
  `oncall:
  members: [alice, bob, carol]
  timezone: Europe/Berlin
  handoff: { every: week, day: mon, at: "09:00" }
  start: 2026-03-02
  ack: { business_hours: 5m, overnight: 15m }
  escalation:
    - { to: primary }
    - { to: secondary, wait: 10m }
    - { to: sre-lead, wait: 15m }
    - { to: director }
  notify:
    pagerduty: { routing_key_env: PD_ROUTING_KEY }
`,
);
const REVERT_PR = 1001;
const ID = 145988746;
const MARK = (n: number) => `<!-- budget-gate:escalation step=${n} -->`;

useNock();

const gh = new Octokit({ auth: 'ghs_test' });

async function revertedAt(at: number) {
  const store = new SqliteWatchStore(`${tempDir('bg-esc-')}/watches.sqlite`);
  await store.add(newWatch(ID, T0 - 20 * MIN, { policy_text: ROTATION_POLICY }), T0 - 20 * MIN);
  await store.claim('r', at, 60_000, 10);
  await store.startRevert(ID, 'r', at, '{}');
  await store.finish(ID, 'r', at, { status: 'reverted', revert_pr: REVERT_PR, reason: 'burned 25%' });
  return store;
}

function escalator(store: SqliteWatchStore) {
  const log = collectingLog();
  return { log, esc: new Escalator({ store, log, auth: async () => gh }) };
}

/** The reads of one escalation check: the pull request, its reviews, its comments. */
function nockReads(
  o: {
    comments?: Array<{ user: string; body: string }>;
    reviews?: string[];
    assignees?: string[];
    state?: string;
  } = {},
) {
  return nock(API)
    .get(`${REPO_PATH}/pulls/${REVERT_PR}`)
    .reply(200, {
      number: REVERT_PR,
      state: o.state ?? 'open',
      created_at: new Date(T0).toISOString(),
      assignees: (o.assignees ?? []).map((login) => ({ login })),
      requested_reviewers: [{ login: 'alice' }],
    })
    .get(`${REPO_PATH}/pulls/${REVERT_PR}/reviews`)
    .query({ per_page: 100 })
    .reply(
      200,
      (o.reviews ?? []).map((login, i) => ({ id: i + 1, user: { login }, state: 'APPROVED', body: '' })),
    )
    .get(`${REPO_PATH}/issues/${REVERT_PR}/comments`)
    .query({ per_page: 100 })
    .reply(
      200,
      (o.comments ?? []).map((c, i) => ({ id: i + 1, user: { login: c.user }, body: c.body })),
    );
}

function nockEscalate(reviewers: string[], sent: string[]) {
  return nock(API)
    .post(`${REPO_PATH}/pulls/${REVERT_PR}/requested_reviewers`, { reviewers, team_reviewers: [] })
    .reply(201, { number: REVERT_PR })
    .post(`${REPO_PATH}/issues/${REVERT_PR}/comments`, (b) => {
      sent.push(b.body);
      return true;
    })
    .reply(201, { id: 99 });
}

describe('escalating an unacknowledged revert (controlled clock, nock)', () => {
  it('asks the primary, then the secondary after the 5-minute ack window, then the lead, then the director, once each', async () => {
    const store = await revertedAt(T0);
    const { esc, log } = escalator(store);
    const policy = (await import('../../src/policy/spec/load.ts')).loadPolicy(
      ROTATION_POLICY,
      'p.yml',
    ).policy;

    nock(API)
      .post(`${REPO_PATH}/pulls/${REVERT_PR}/requested_reviewers`, {
        reviewers: ['alice'],
        team_reviewers: [],
      })
      .reply(201, {});
    await esc.revertOpened(
      await store.get(ID)!.then((w) => w!),
      { pull_number: REVERT_PR, url: 'u' },
      policy,
      T0,
      'burned 25%',
    );
    assertAllCalled();

    // The policy routes to PagerDuty but this bot has no routing key: the revert's page is said to
    // be undelivered (loudly, once), never passed over.
    expect(log.lines.filter((l) => l.startsWith('warn'))).toEqual([
      `warn: budget-gate/Codertocat/Hello-World/revert/${ID}: sev2 page not delivered: PD_ROUTING_KEY is not set, so PagerDuty cannot be asked`,
    ]);
    log.lines.length = 0;
    // Inside alice's window: not a single request (nock refuses any).
    await esc.tick(T0 + 4 * MIN);
    expect(log.lines.filter((l) => l.startsWith('warn'))).toEqual([]);

    const sent: string[] = [];
    nockReads();
    nockEscalate(['bob'], sent);
    await esc.tick(T0 + 5 * MIN);
    assertAllCalled();
    expect(sent[0]).toBe(
      [
        '@bob: this revert has not been acknowledged since Mon 2026-03-02 13:00 Europe/Berlin by @alice (primary), so it escalates to you (step 2 of 4 of the escalation path).',
        '',
        'Acknowledge by reviewing this pull request, commenting on it or assigning yourself.',
        'Next: @sre-lead at Mon 2026-03-02 13:15 Europe/Berlin if nobody has.',
        MARK(1),
      ].join('\n'),
    );

    // Between steps: nothing is asked of GitHub.
    await esc.tick(T0 + 10 * MIN);

    nockReads({ comments: [{ user: 'budget-gate[bot]', body: sent[0]! }] });
    nockEscalate(['sre-lead'], sent);
    await esc.tick(T0 + 15 * MIN);
    assertAllCalled();
    expect(sent[1]).toContain(
      '@sre-lead: this revert has not been acknowledged since Mon 2026-03-02 13:00 Europe/Berlin by @alice (primary), @bob (secondary)',
    );

    nockReads({
      comments: [
        { user: 'budget-gate[bot]', body: sent[0]! },
        { user: 'budget-gate[bot]', body: sent[1]! },
      ],
    });
    nockEscalate(['director'], sent);
    await esc.tick(T0 + 30 * MIN);
    assertAllCalled();
    expect(sent[2]).toContain('This is the last step of the escalation path.');

    // The path is exhausted: no more requests, ever.
    await esc.tick(T0 + 90 * MIN);
    expect(sent).toHaveLength(3);
  });

  it.each([
    ['a review by the primary', { reviews: ['alice'] }],
    ['a comment by the primary', { comments: [{ user: 'alice', body: 'looking' }] }],
    ['the primary assigned', { assignees: ['alice'] }],
  ])('stops at %s', async (_, reads) => {
    const store = await revertedAt(T0);
    const { esc, log } = escalator(store);
    nockReads(reads);
    await esc.tick(T0 + 6 * MIN);
    assertAllCalled();
    await esc.tick(T0 + 20 * MIN); // nothing more: nock would refuse a request
    expect(log.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
  });

  it('stops at a merged (closed) revert after one read', async () => {
    const store = await revertedAt(T0);
    const { esc } = escalator(store);
    nock(API)
      .get(`${REPO_PATH}/pulls/${REVERT_PR}`)
      .reply(200, { number: REVERT_PR, state: 'closed', assignees: [] });
    await esc.tick(T0 + 6 * MIN);
    assertAllCalled();
    await esc.tick(T0 + 20 * MIN);
  });

  it('a restarted bot reads what was already announced and does not ask twice', async () => {
    const store = await revertedAt(T0);
    const { esc } = escalator(store);
    const bobComment = `@bob: ...\n${MARK(1)}`;
    nockReads({ comments: [{ user: 'budget-gate[bot]', body: bobComment }] });
    await esc.tick(T0 + 7 * MIN);
    assertAllCalled();
  });

  it('overnight the primary has the 15-minute window', async () => {
    const night = T0 + 10 * 60 * MIN; // 23:00 Berlin
    const store = await revertedAt(night);
    const { esc } = escalator(store);
    await esc.tick(night + 14 * MIN);
    const sent: string[] = [];
    nockReads();
    nockEscalate(['bob'], sent);
    await esc.tick(night + 15 * MIN);
    assertAllCalled();
    expect(sent[0]).toContain('since Mon 2026-03-02 23:00 Europe/Berlin');
  });
});

describe('the watcher’s hooks', () => {
  it('a revert the watcher opens pages (PagerDuty) and asks the primary to review it', async () => {
    const tasks = scenarioTasks(0.005, 0.0525);
    const source = new JsonlSource({ path: writeScenario(tasks) });
    const store = new SqliteWatchStore(`${tempDir('bg-esc-')}/watches.sqlite`);
    await store.add(newWatch(ID, T0, { policy_text: ROTATION_POLICY }), T0);
    // The first tick at which the canary judge reverts this scenario.
    const clock = testClock(T0 + firstBreachMinute(tasks, T0)! * MIN);
    const log = collectingLog();
    const pd: unknown[] = [];
    nock('https://events.pagerduty.com')
      .post('/v2/enqueue', (b) => {
        pd.push(b);
        return true;
      })
      .reply(202, { status: 'success', message: 'Event processed', dedup_key: 'k' });
    nock(API)
      .post(`${REPO_PATH}/pulls/${REVERT_PR}/requested_reviewers`, {
        reviewers: ['alice'],
        team_reviewers: [],
      })
      .reply(201, {});
    const { revert } = recordingReverter();
    const watcher = new Watcher({
      store,
      source,
      clock: clock.now,
      replica: 'r',
      log,
      revert,
      hooks: new Escalator({ store, log, auth: async () => gh, env: { PD_ROUTING_KEY: 'k'.repeat(32) } }),
    });
    const report = await watcher.tick();
    expect(report.reverted).toEqual([{ deployment_id: ID, pull_number: REVERT_PR, existing: false }]);
    assertAllCalled();
    // Sev2 in business hours: paged, with the runbook, the revert (where its evidence is) and the on-call.
    expect(pd[0]).toMatchObject({
      event_action: 'trigger',
      dedup_key: `budget-gate/Codertocat/Hello-World/revert/${ID}`,
      payload: { severity: 'error', class: 'revert-opened' },
      links: [
        {
          href: 'https://runbooks.example.com/agents/fast-burn',
          text: 'runbook https://runbooks.example.com/agents/fast-burn',
        },
        { href: 'https://github.com/x/y/pull/1001', text: 'revert #1001' },
        { href: 'https://github.com/alice', text: 'on call: @alice (primary)' },
        { href: 'https://github.com/bob', text: 'on call: @bob (secondary)' },
      ],
    });
  });

  it('a revert that failed pages with the runbook the evidence names (on the default branch), the on-call and the failure', async () => {
    const store = new SqliteWatchStore(`${tempDir('bg-esc-')}/watches.sqlite`);
    const policyText = ROTATION_POLICY.replace(
      'runbook: "https://runbooks.example.com/agents/fast-burn"',
      'runbook: docs/runbooks/fast-burn.md',
    );
    await store.add(newWatch(ID, T0, { policy_text: policyText }), T0);
    await store.claim('r', T0 + 10 * MIN, 60_000, 10);
    await store.startRevert(ID, 'r', T0 + 10 * MIN, JSON.stringify({ runbook: { alert: 'fast-burn' } }));
    const w = (await store.get(ID))!;
    const pd: Array<Record<string, any>> = [];
    nock('https://events.pagerduty.com')
      .post('/v2/enqueue', (b) => pd.push(b) > 0)
      .reply(202, { status: 'success', message: 'Event processed', dedup_key: 'k' });
    const log = collectingLog();
    const esc = new Escalator({ store, log, auth: async () => gh, env: { PD_ROUTING_KEY: 'k'.repeat(32) } });
    await esc.revertFailed(
      w,
      'GitHub 403',
      loadPolicy(policyText, 'p.yml').policy,
      T0 + 20 * MIN,
      'burned 25%',
    );
    expect(pd[0]).toMatchObject({ payload: { severity: 'critical', class: 'revert-failed' } });
    expect(pd[0]!.links).toEqual([
      {
        href: 'https://github.com/Codertocat/Hello-World/blob/master/docs/runbooks/fast-burn.md',
        text: 'runbook docs/runbooks/fast-burn.md',
      },
      {
        href: 'https://github.com/Codertocat/Hello-World/pull/42',
        text: 'budget-gate decision (the failure, on #42)',
      },
      { href: 'https://github.com/alice', text: 'on call: @alice (primary)' },
      { href: 'https://github.com/bob', text: 'on call: @bob (secondary)' },
      {
        href: 'https://github.com/Codertocat/Hello-World/deployments/production',
        text: 'deployments to production',
      },
    ]);
    expect(log.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
  });
});
