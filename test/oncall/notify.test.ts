import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decisionEvents, revertFailedEvent } from '../../src/notify/events.ts';
import { FileLedger, MemoryLedger } from '../../src/notify/ledger.ts';
import { repoFileUrl } from '../../src/notify/links.ts';
import { Notifier } from '../../src/notify/notifier.ts';
import { PAGERDUTY_LIMITS, triggerBody } from '../../src/notify/pagerduty.ts';
import { slackMessage } from '../../src/notify/slack.ts';
import type { Decision } from '../../src/policy/gate/decision-schema.ts';
import { routeSeverity } from '../../src/policy/oncall/routing.ts';
import { tempDir } from '../support/tasks.ts';
import { HOUR, MIN, oncallPolicy } from './fixtures.ts';

const policy = oncallPolicy();
const env = {
  PD_ROUTING_KEY: 'R0UTINGKEY0123456789abcdef012345',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXX',
};
const TUESDAY_1000 = Date.parse('2026-11-03T09:00:00Z');
const TUESDAY_2200 = Date.parse('2026-11-03T21:00:00Z');

beforeEach(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

function decision(over: Partial<Decision> = {}): Decision {
  return {
    state: 'ship',
    allowed: true,
    risk: 'low',
    revert: false,
    revert_evidence: null,
    reasons: [],
    actions: [],
    slos: [],
    alerts: [],
    risk_files: [],
    override: null,
    override_refusals: [],
    telemetry: { source: 'jsonl', error: null },
    warnings: [],
    thresholds: { soft_pause: 0.5, hard_pause: 1 },
    evaluated_at: new Date(TUESDAY_1000).toISOString(),
    ...over,
  };
}

const fastBurn = {
  name: 'fast-burn',
  slo: 'tasks-success',
  severity: 'sev1' as const,
  action: 'page' as const,
  burn_rate: 14.4,
  long: '1h',
  short: '5m',
  long_burn: 16.2,
  short_burn: 21.5,
  runbook: 'https://runbooks.example.com/agents/fast-burn',
};
const steadyBurn = {
  ...fastBurn,
  name: 'steady-burn',
  severity: 'sev2' as const,
  burn_rate: 6,
  long: '6h',
  short: '30m',
  long_burn: 6.4,
  short_burn: 7,
};
const ctx = { repo: 'acme/agents', deployment: '145988746' };
/** Deployment `id` (of sha `c` x40) could not be reverted: GitHub refused, Tuesday 10:00. */
const failedRevertOf = (id: number, c: string) =>
  revertFailedEvent(
    policy,
    { repo: 'acme/agents', deployment_id: id, sha: c.repeat(40), environment: 'production', message: 'x' },
    'GitHub 403',
    { at: TUESDAY_1000 },
  );

/** Records every PagerDuty and Slack body. */
function capture() {
  // biome-ignore lint/suspicious/noExplicitAny: request bodies as the services received them, asserted field by field
  const pd: any[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const slack: any[] = [];
  nock('https://events.pagerduty.com')
    .persist()
    .post('/v2/enqueue', (b) => {
      pd.push(b);
      return true;
    })
    .reply(202, { status: 'success', message: 'Event processed', dedup_key: 'x' });
  nock('https://hooks.slack.com')
    .persist()
    .post('/services/T000/B000/XXXX', (b) => {
      slack.push(b);
      return true;
    })
    .reply(200, 'ok', { 'content-type': 'text/plain' });
  return { pd, slack };
}

describe('severity routing', () => {
  it('sev1 pages at any hour; sev3 never pages and names its channel and owner', () => {
    expect(routeSeverity(policy.oncall, 'sev1', TUESDAY_2200, TUESDAY_2200)).toMatchObject({
      page: true,
      severity: 'sev1',
    });
    expect(routeSeverity(policy.oncall, 'sev3', TUESDAY_1000, TUESDAY_1000)).toMatchObject({
      page: false,
      page_at: null,
      channel: '#agent-reliability',
      owner: 'acme/sre',
      why: 'sev3 never pages: posted to #agent-reliability (owner acme/sre)',
    });
  });

  it('sev2 pages in business hours, waits for them at night, and becomes sev1 at the end of the business day', () => {
    expect(routeSeverity(policy.oncall, 'sev2', TUESDAY_1000, TUESDAY_1000)).toMatchObject({
      page: true,
      severity: 'sev2',
      promote_at: Date.parse('2026-11-03T16:00:00Z'),
    });
    const night = routeSeverity(policy.oncall, 'sev2', TUESDAY_2200, TUESDAY_2200);
    expect(night).toMatchObject({ page: false, page_at: Date.parse('2026-11-04T08:00:00Z') });
    expect(night.why).toContain(
      'paged at Wed 2026-11-04 09:00 Europe/Berlin if still open, sev1 from Wed 2026-11-04 17:00',
    );
    // Raised Tuesday 10:00 and still open at 17:00: sev1, which pages at any hour.
    expect(
      routeSeverity(policy.oncall, 'sev2', TUESDAY_1000, Date.parse('2026-11-03T16:00:00Z')),
    ).toMatchObject({
      page: true,
      severity: 'sev1',
      raised: 'sev2',
    });
  });
});

describe('Notifier: PagerDuty Events API v2 and a Slack incoming webhook', () => {
  it('pages a sev1 alert once with the documented trigger shape, posts it once, and resolves it when it stops firing', async () => {
    const { pd, slack } = capture();
    const ledger = new MemoryLedger();
    const n = new Notifier({ oncall: policy.oncall, env, ledger });
    const events = decisionEvents(policy, decision({ alerts: [fastBurn] }), ctx);
    const key = 'budget-gate/acme/agents/alert/fast-burn/tasks-success';
    expect(events.map((e) => e.key)).toEqual([key]);

    const first = await n.send(events, TUESDAY_2200);
    expect(first[0]).toMatchObject({ sent: ['pagerduty-trigger', 'slack'], errors: [] });
    expect(pd).toEqual([
      {
        routing_key: env.PD_ROUTING_KEY,
        event_action: 'trigger',
        dedup_key: key,
        payload: {
          summary:
            'sev1 fast-burn on tasks-success (acme/agents): burning 16.2x over 1h and 21.5x over 5m, alert at 14.4x',
          source: 'acme/agents',
          severity: 'critical',
          timestamp: '2026-11-03T21:00:00.000Z',
          component: 'tasks-success',
          group: 'acme/agents',
          class: 'alert',
          custom_details: expect.objectContaining({
            long_burn: 16.2,
            deployment: '145988746',
            severity: 'sev1',
          }),
        },
        links: [
          { href: fastBurn.runbook, text: `runbook ${fastBurn.runbook}` },
          { href: 'https://github.com/alice', text: 'on call: @alice (primary)' },
          { href: 'https://github.com/bob', text: 'on call: @bob (secondary)' },
        ],
        client: 'budget-gate',
      },
    ]);
    expect(pd[0].payload.custom_details).toMatchObject({
      runbook: fastBurn.runbook,
      on_call: '@alice (primary), @bob (secondary)',
      decision: 'not linked: the caller gave no link to the decision',
    });
    expect(slack).toHaveLength(1);
    expect(slack[0].text).toMatch(/^SEV1 paged: sev1 fast-burn on tasks-success/);
    expect(slack[0].blocks[2].elements[0].text).toContain('sev1 pages at any hour');

    // The same alert in the next decisions: nothing more is sent.
    await n.send(events, TUESDAY_2200 + MIN);
    await n.send(decisionEvents(policy, decision({ alerts: [fastBurn] }), ctx), TUESDAY_2200 + 10 * MIN);
    expect(pd).toHaveLength(1);
    expect(slack).toHaveLength(1);

    const resolved = await n.settle('acme/agents', ['alert', 'hard-pause'], [], TUESDAY_2200 + HOUR);
    expect(resolved[0]).toMatchObject({ key, sent: ['pagerduty-resolve', 'slack'] });
    expect(pd[1]).toEqual({ routing_key: env.PD_ROUTING_KEY, event_action: 'resolve', dedup_key: key });
    expect(await ledger.open('acme/agents')).toEqual([]);
  });

  it('posts a sev2 at night, pages it when business hours begin, and pages it again as sev1 when still open at 17:00', async () => {
    const { pd, slack } = capture();
    const n = new Notifier({ oncall: policy.oncall, env, ledger: new MemoryLedger() });
    const events = decisionEvents(policy, decision({ alerts: [steadyBurn] }), ctx);
    const key = events[0]!.key;

    await n.send(events, TUESDAY_2200);
    expect(pd).toHaveLength(0);
    expect(slack.map((s) => s.text.split(':')[0])).toEqual(['SEV2']);

    await n.send(events, Date.parse('2026-11-04T08:00:00Z')); // Wednesday 09:00 Berlin
    expect(pd.map((b) => [b.dedup_key, b.payload.severity])).toEqual([[key, 'error']]);
    await n.send(events, Date.parse('2026-11-04T12:00:00Z'));
    expect(pd).toHaveLength(1);

    // Raised Tuesday night: the end of its business day is Wednesday 17:00.
    await n.send(events, Date.parse('2026-11-04T16:00:00Z'));
    expect(pd.map((b) => [b.dedup_key, b.payload.severity])).toEqual([
      [key, 'error'],
      [`${key}:sev1`, 'critical'],
    ]);
    expect(slack.map((s) => s.text.split(':')[0])).toEqual([
      'SEV2',
      'SEV2 paged',
      'SEV1 (was sev2, still open)',
    ]);
    await n.send(events, Date.parse('2026-11-04T20:00:00Z'));
    expect(pd).toHaveLength(2);
  });

  it('a sev3 goes to the channel only', async () => {
    const { pd, slack } = capture();
    const n = new Notifier({ oncall: policy.oncall, env, ledger: new MemoryLedger() });
    await n.send(
      decisionEvents(
        policy,
        decision({ alerts: [{ ...fastBurn, name: 'slow-burn', severity: 'sev3' }] }),
        ctx,
      ),
      TUESDAY_1000,
    );
    expect(pd).toHaveLength(0);
    expect(slack).toHaveLength(1);
  });

  it('a hard pause is one episode per set of SLOs, at the policy’s severity for it', () => {
    const d = decision({
      state: 'hard-pause',
      slos: [{ name: 'tasks-success', state: 'hard-pause', consumed: 1.042 } as Decision['slos'][number]],
    });
    const [e] = decisionEvents(policy, d, ctx);
    expect(e).toMatchObject({
      kind: 'hard-pause',
      key: 'budget-gate/acme/agents/hard-pause/tasks-success',
      severity: 'sev2',
      summary: 'HARD-PAUSE in acme/agents: tasks-success 104% of budget consumed; nothing but reverts ships',
    });
  });

  it('a refused send is kept for the next run and names the variable, never the secret', async () => {
    nock('https://events.pagerduty.com').post('/v2/enqueue').times(3).reply(429, { status: 'throttle' });
    nock('https://hooks.slack.com').post('/services/T000/B000/XXXX').reply(404, 'channel_not_found');
    const waits: number[] = [];
    const n = new Notifier({
      oncall: policy.oncall,
      env,
      ledger: new MemoryLedger(),
      retry: { sleep: async (ms) => void waits.push(ms) },
    });
    const e = failedRevertOf(7, 'f');
    const [d] = await n.send([e], TUESDAY_1000);
    expect(d!.errors).toEqual([
      'PagerDuty trigger budget-gate/acme/agents/revert-failed/7: rate limited (429) after 3 attempts: it is sent again at the next run',
      'Slack webhook (SLACK_WEBHOOK_URL) answered 404 channel_not_found',
    ]);
    expect(d!.errors.join(' ')).not.toContain(env.PD_ROUTING_KEY);
    expect(d!.errors.join(' ')).not.toContain('XXXX');
    // A 429 is retried with backoff (twice, then left for the next run); a 404 is not.
    expect(waits).toEqual([1000, 4000]);
    const { pd } = capture();
    await n.send([e], TUESDAY_1000 + MIN);
    expect(pd.map((b) => b.payload.severity)).toEqual(['critical']);
  });

  it('retries a 5xx and a dropped connection and honours Retry-After', async () => {
    const waits: number[] = [];
    const retry = { sleep: async (ms: number) => void waits.push(ms) };
    const e = failedRevertOf(8, 'e');
    nock('https://events.pagerduty.com')
      .post('/v2/enqueue')
      .reply(503, 'busy')
      .post('/v2/enqueue')
      // An Error, not a plain object: nock answers fetch with a plain object only when the
      // request's own timeout fires, which would test the timeout instead of the reset.
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .post('/v2/enqueue')
      .reply(202, { status: 'success' });
    nock('https://hooks.slack.com')
      .post('/services/T000/B000/XXXX')
      .reply(429, 'rate_limited', { 'retry-after': '2' })
      .post('/services/T000/B000/XXXX')
      .reply(200, 'ok');
    const n = new Notifier({ oncall: policy.oncall, env, ledger: new MemoryLedger(), retry });
    const [d] = await n.send([e], TUESDAY_1000);
    expect(d).toMatchObject({ errors: [], sent: ['pagerduty-trigger', 'slack'], undelivered: null });
    expect(waits).toEqual([1000, 4000, 2000]);
  });

  it('reads at most a few KiB of an error answer and strips escapes and line breaks from it', async () => {
    const huge = `\u001b[31mFAKE\r\nINJECTED LINE${'x'.repeat(5_000_000)}`;
    nock('https://hooks.slack.com').post('/services/T000/B000/XXXX').reply(400, huge);
    nock('https://events.pagerduty.com').post('/v2/enqueue').reply(202, { status: 'success' });
    const n = new Notifier({ oncall: policy.oncall, env, ledger: new MemoryLedger() });
    const e = failedRevertOf(9, 'd');
    const [d] = await n.send([e], TUESDAY_1000);
    const msg = d!.errors[0]!;
    expect(msg.startsWith('Slack webhook (SLACK_WEBHOOK_URL) answered 400 [31mFAKE INJECTED LINE')).toBe(
      true,
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must be gone
    expect(msg).not.toMatch(/[\u0000-\u001f]/);
    expect(msg.length).toBeLessThan(400);
  });

  it('names unset secrets', () => {
    const n = new Notifier({ oncall: policy.oncall, env: {}, ledger: new MemoryLedger() });
    expect(n.configProblems()).toEqual([
      'oncall.notify.pagerduty: PD_ROUTING_KEY is not set, so nothing can page',
      'oncall.notify.slack: SLACK_WEBHOOK_URL is not set, so nothing reaches the channel',
    ]);
  });

  it('the file ledger survives a restart: a second process does not page again', async () => {
    const { pd } = capture();
    const path = `${tempDir('bg-ledger-')}/sent.json`;
    const events = decisionEvents(policy, decision({ alerts: [fastBurn] }), ctx);
    await new Notifier({ oncall: policy.oncall, env, ledger: new FileLedger(path) }).send(
      events,
      TUESDAY_1000,
    );
    await new Notifier({ oncall: policy.oncall, env, ledger: new FileLedger(path) }).send(
      events,
      TUESDAY_1000 + MIN,
    );
    expect(pd).toHaveLength(1);
  });
});

describe('pages carry the runbook, who is on call and the decision', () => {
  const repoRunbook = { ...fastBurn, runbook: 'docs/runbooks/fast burn.md#first-5-minutes' };

  it('links a repository path to the file on the default branch, in PagerDuty `links` and Slack fields', async () => {
    const { pd, slack } = capture();
    const n = new Notifier({ oncall: policy.oncall, env, ledger: new MemoryLedger() });
    const events = decisionEvents(policy, decision({ alerts: [repoRunbook] }), {
      ...ctx,
      url: 'https://github.com/acme/agents/actions/runs/42',
      branch: 'trunk',
    });
    await n.send(events, TUESDAY_2200);
    const runbook = 'https://github.com/acme/agents/blob/trunk/docs/runbooks/fast%20burn.md#first-5-minutes';
    expect(pd[0].links).toEqual([
      { href: runbook, text: 'runbook docs/runbooks/fast burn.md#first-5-minutes' },
      { href: 'https://github.com/acme/agents/actions/runs/42', text: 'budget-gate decision' },
      { href: 'https://github.com/alice', text: 'on call: @alice (primary)' },
      { href: 'https://github.com/bob', text: 'on call: @bob (secondary)' },
    ]);
    expect(pd[0].payload.custom_details).toMatchObject({
      runbook,
      on_call: '@alice (primary), @bob (secondary)',
      decision: 'https://github.com/acme/agents/actions/runs/42',
    });
    expect(slack[0].blocks[1]).toEqual({
      type: 'section',
      fields: [
        {
          type: 'mrkdwn',
          text: `*Runbook*\n<${runbook}|runbook docs/runbooks/fast burn.md#first-5-minutes>`,
        },
        { type: 'mrkdwn', text: '*On call*\n@alice (primary), @bob (secondary)' },
        {
          type: 'mrkdwn',
          text: '*Decision*\n<https://github.com/acme/agents/actions/runs/42|budget-gate decision>',
        },
      ],
    });
  });

  it('says why a link is missing instead of leaving it out, and names who is on call at the page’s instant', async () => {
    const { slack } = capture();
    const n = new Notifier({ oncall: policy.oncall, env, ledger: new MemoryLedger() });
    // Week 2 (from Monday 2026-11-09 09:00 Berlin): bob is primary, carol secondary.
    const at = Date.parse('2026-11-10T12:00:00Z');
    await n.send(
      decisionEvents(policy, decision({ alerts: [{ ...fastBurn, runbook: null }] }), {
        ...ctx,
        at,
        url_missing: 'not linked: pass --decision-url',
      }),
      at,
    );
    expect(slack[0].blocks[1].fields.map((f: { text: string }) => f.text)).toEqual([
      '*Runbook*\nnone: none in the policy: add `runbook:` to the alert',
      '*On call*\n@bob (primary), @carol (secondary)',
      '*Decision*\nnot linked: pass --decision-url',
    ]);
  });

  it('a hard pause links the runbook of the most urgent alert firing; a revert that failed links its runbook, the on-call and the failure', async () => {
    const p = oncallPolicy(
      undefined,
      `alerts:
  - { name: fast-burn, severity: sev1, burn_rate: 14.4, long: 1h, short: 5m, runbook: runbooks/fast-burn.md }
  - { name: steady-burn, severity: sev2, burn_rate: 6, long: 6h, short: 30m, runbook: runbooks/steady-burn.md }`,
    );
    const d = decision({
      state: 'hard-pause',
      alerts: [steadyBurn],
      slos: [{ name: 'tasks-success', state: 'hard-pause', consumed: 1.042 } as Decision['slos'][number]],
    });
    const pause = decisionEvents(p, d, { ...ctx, branch: 'main' }).find((e) => e.kind === 'hard-pause')!;
    expect(pause.context.runbook).toEqual({
      href: 'https://github.com/acme/agents/blob/main/runbooks/steady-burn.md',
      text: 'runbook runbooks/steady-burn.md',
    });

    const failed = revertFailedEvent(
      p,
      { repo: 'acme/agents', deployment_id: 7, sha: 'f'.repeat(40), environment: 'production', message: 'x' },
      'GitHub 403',
      {
        at: TUESDAY_2200,
        branch: 'main',
        runbook_alert: 'fast-burn',
        decision: { href: 'https://github.com/acme/agents/pull/12', text: 'the failure, on #12' },
      },
    );
    expect(failed.links.map((l) => l.href)).toEqual([
      'https://github.com/acme/agents/blob/main/runbooks/fast-burn.md',
      'https://github.com/acme/agents/pull/12',
      'https://github.com/alice',
      'https://github.com/bob',
      'https://github.com/acme/agents/deployments/production',
    ]);
    expect(failed.details.runbook_of).toBe('fast-burn');
  });

  it('escapes &, < and > for Slack, so a name cannot ping the channel or forge a link', () => {
    const e = decisionEvents(
      policy,
      decision({ alerts: [{ ...fastBurn, name: '<!channel> & <https://evil.example|docs>' }] }),
      ctx,
    )[0]!;
    const msg = slackMessage(e, 'SEV1 paged', 'sev1 pages at any hour');
    const text = JSON.stringify(msg.blocks);
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('&lt;!channel&gt; &amp; &lt;https://evil.example|docs&gt;');
  });

  it('keeps a trigger inside PagerDuty’s documented limits: 1024-character summary, 512 KB event', () => {
    const e = decisionEvents(policy, decision({ alerts: [repoRunbook] }), { ...ctx, branch: 'main' })[0]!;
    const big = { ...e, summary: 'x'.repeat(5000), details: { blob: 'y'.repeat(800_000) } };
    const body = triggerBody('k'.repeat(32), big, 'sev1', e.key, TUESDAY_1000);
    expect(body.payload.summary.length).toBeLessThanOrEqual(PAGERDUTY_LIMITS.summary);
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(PAGERDUTY_LIMITS.bytes);
    expect(body.payload.custom_details).toMatchObject({
      runbook: 'https://github.com/acme/agents/blob/main/docs/runbooks/fast%20burn.md#first-5-minutes',
      on_call: '@alice (primary), @bob (secondary)',
      truncated: expect.stringContaining('over PagerDuty'),
    });
    expect(body.links[0]!.href).toContain('/blob/main/');
  });

  it('links files on GHES and on HEAD when the default branch is not known', () => {
    expect(repoFileUrl('https://ghe.example.com/', 'acme/agents', null, './runbooks/a.md')).toBe(
      'https://ghe.example.com/acme/agents/blob/HEAD/runbooks/a.md',
    );
    expect(repoFileUrl('https://github.com', 'acme/agents', 'release/2026', 'a b/c#d e')).toBe(
      'https://github.com/acme/agents/blob/release/2026/a%20b/c#d%20e',
    );
  });
});

describe('the file ledger keeps the history of what paged', () => {
  it('a new episode of a resolved key keeps the old one under key#raised_at, never open again', async () => {
    const ledger = new FileLedger(`${tempDir('bg-ledger-')}/sent.json`);
    const e = {
      key: 'budget-gate/acme/agents/alert/fast-burn/s',
      repo: 'acme/agents',
      kind: 'alert',
      severity: 'sev1',
      paged: [],
      posted: [],
    };
    await ledger.put({ ...e, raised_at: 1000, resolved_at: 2000 });
    await ledger.put({ ...e, raised_at: 5000, resolved_at: null });
    const again = new FileLedger(ledger.path);
    expect((await again.all()).map((x) => [x.key, x.raised_at]).sort()).toEqual([
      [`${e.key}#1000`, 1000],
      [e.key, 5000],
    ]);
    expect((await again.open('acme/agents')).map((x) => x.key)).toEqual([e.key]);
    expect((await again.get(e.key))?.raised_at).toBe(5000);
  });
});
