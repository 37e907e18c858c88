import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import { confirmations } from '../../src/policy/oncall/drill.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/tasks.ts';

// `budget-gate drill` end to end against stand-ins: PagerDuty's Events API and REST API, Slack's
// webhook and GitHub's REST API as nock on their exact endpoints, the bot's store as a real SQLite
// file another connection writes the acknowledgement into (as the bot's webhook handler does). The
// clock is the test's: each poll's sleep moves it.

const ROOT = resolve(import.meta.dirname, '../..');
// Friday 2026-11-20 10:00 Berlin: carol's week (primary), alice secondary.
const T = Date.parse('2026-11-20T09:00:00Z');
const KEY = 'budget-gate/acme/agents/drill/fast-burn/2026-11-20T09:00:00Z';
const ENV = {
  PAGERDUTY_ROUTING_KEY: 'r'.repeat(32),
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B1/s3cret',
};

function repo(notify = '    pagerduty: { routing_key_env: PAGERDUTY_ROUTING_KEY }\n'): string {
  const dir = tempDir('bg-drill-');
  mkdirSync(join(dir, 'runbooks'));
  cpSync(join(ROOT, 'examples/runbooks/fast-burn.md'), join(dir, 'runbooks/fast-burn.md'));
  writeFileSync(
    join(dir, 'policy.yml'),
    `version: 1
slos: [{ name: s, sli: { kind: success }, target: 99%, window: 7d, scope: all }]
alerts:
  - { name: fast-burn, severity: sev1, burn_rate: 14.4, long: 1h, short: 5m, runbook: runbooks/fast-burn.md, drill_every: 30d }
oncall:
  members: [{ login: alice, pagerduty: PALICE1 }, { login: bob, pagerduty: PBOB001 }, carol]
  timezone: Europe/Berlin
  handoff: { every: week, day: mon, at: "09:00" }
  start: 2026-11-02
  notify:
${notify}    slack: { webhook_url_env: SLACK_WEBHOOK_URL }
`,
  );
  return dir;
}

/** The CLI with a clock each sleep moves forward; `onSleep` plays what people do meanwhile. */
async function drill(
  dir: string,
  args: string[],
  env: Record<string, string>,
  onSleep?: (n: number) => Promise<void>,
) {
  let now = T;
  let sleeps = 0;
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    ['drill', 'fast-burn', '--repo', 'acme/agents', '--policy', 'policy.yml', ...args],
    {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
      env,
      cwd: dir,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
        sleeps++;
        await onSleep?.(sleeps);
      },
    },
  );
  return { code, stdout, stderr, sleeps };
}

const records = (dir: string) =>
  readdirSync(join(dir, 'drills')).map((f) => ({
    f,
    r: JSON.parse(readFileSync(join(dir, 'drills', f), 'utf8')),
  }));

/** An issue comment as GitHub lists it. */
const comment = (login: string, type: 'Bot' | 'User', createdAt: string, body: string) => ({
  user: { login, type },
  created_at: createdAt,
  body,
});

beforeEach(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

describe('confirmations', () => {
  it('reads `confirm 1 2`, `confirmed 3, 4 and 5`, `confirm all`, and nothing out of range', () => {
    expect(confirmations('confirm 1 2', 6)).toEqual([1, 2]);
    expect(confirmations('Confirmed 3, 4 and 5.', 6)).toEqual([3, 4, 5]);
    expect(confirmations('done: confirm all', 3)).toEqual([1, 2, 3]);
    expect(confirmations('confirm 9; I will confirm later', 6)).toEqual([]);
  });
});

describe('budget-gate drill', () => {
  it('pages through PagerDuty, reads the acknowledgement and the confirmed steps from its REST API, and records them', async () => {
    const dir = repo();
    const pd: Array<Record<string, any>> = [];
    nock('https://events.pagerduty.com')
      .persist()
      .post('/v2/enqueue', (b) => pd.push(b) > 0)
      .reply(202, { status: 'success' });
    const slack: unknown[] = [];
    nock('https://hooks.slack.com')
      .post('/services/T1/B1/s3cret', (b) => slack.push(b) > 0)
      .reply(200, 'ok');
    const api = nock('https://api.pagerduty.com', {
      reqheaders: {
        authorization: 'Token token=readonly-key',
        accept: 'application/vnd.pagerduty+json;version=2',
      },
    });
    const query = { incident_key: KEY, date_range: 'all' };
    // First look: triggered. Second: bob acknowledged 2m14s after the page and confirmed every step in notes.
    api
      .get('/incidents')
      .query(query)
      .reply(200, { incidents: [{ id: 'Q1', status: 'triggered', acknowledgements: [] }] });
    api.get('/incidents/Q1/notes').reply(200, { notes: [] });
    api
      .get('/incidents')
      .query(query)
      .reply(200, {
        incidents: [
          {
            id: 'Q1',
            status: 'acknowledged',
            acknowledgements: [
              { at: '2026-11-20T09:02:14Z', acknowledger: { id: 'PBOB001', summary: 'Bob Example' } },
            ],
          },
        ],
      });
    api.get('/incidents/Q1/notes').reply(200, {
      notes: [
        {
          created_at: '2026-11-20T09:10:00Z',
          user: { id: 'PBOB001', summary: 'Bob Example' },
          content: 'confirm 1 2 3',
        },
        {
          created_at: '2026-11-20T09:20:00Z',
          user: { id: 'PBOB001', summary: 'Bob Example' },
          content: 'confirmed 4, 5 and 6',
        },
      ],
    });
    const r = await drill(dir, [], { ...ENV, BUDGET_GATE_PAGERDUTY_API_KEY: 'readonly-key' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.sleeps).toBe(1);
    // The test page: marked, the real routing key, the runbook and who is on call.
    expect(pd[0]).toMatchObject({
      event_action: 'trigger',
      dedup_key: KEY,
      payload: {
        class: 'drill',
        severity: 'critical',
        summary: expect.stringMatching(/^\[DRILL\] sev1 fast-burn/),
      },
    });
    expect(pd[0]!.links[0].href).toBe('https://github.com/acme/agents/blob/HEAD/runbooks/fast-burn.md');
    expect(pd[0]!.payload.custom_details.on_call).toBe('@carol (primary), @alice (secondary)');
    expect(pd[1]).toEqual({
      routing_key: ENV.PAGERDUTY_ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: KEY,
    });
    expect(JSON.stringify(slack)).toContain('DRILL (sev1 test page)');
    const [{ f, r: rec }] = records(dir) as [{ f: string; r: any }];
    expect(f).toBe('2026-11-20-fast-burn-bob.json');
    expect(rec).toMatchObject({
      ack_source: 'pagerduty',
      on_call: { primary: 'carol', secondary: 'alice' },
      delivered: ['pagerduty', 'slack'],
      acknowledged: { by: 'Bob Example (PagerDuty PBOB001)', login: 'bob', seconds: 134 },
      ended: 'all-steps-confirmed',
    });
    expect(rec.steps.map((s: { confirmed_by: string }) => s.confirmed_by)).toEqual(Array(6).fill('bob'));
    api.done();

    // runbooks lint now credits bob, and only bob: the runbook is not drilled until alice and carol run it.
    const lint = await cli(['runbooks', 'lint', '--policy', 'policy.yml'], { cwd: dir });
    expect(lint.code).toBe(1);
    expect(lint.stdout).toContain(
      'drills (every 30 days): @alice never, @bob 2026-11-20 (acknowledged in 2m14s), @carol never',
    );
    expect(lint.stdout).toContain('@carol has never run it in a drill');
  });

  it('for a Slack-only team: the drill issue is where the page is acknowledged and the steps confirmed', async () => {
    const dir = repo('');
    const env = { SLACK_WEBHOOK_URL: ENV.SLACK_WEBHOOK_URL, GITHUB_TOKEN: 'ghs_test' };
    nock('https://hooks.slack.com').post('/services/T1/B1/s3cret').reply(200, 'ok');
    const gh = nock('https://api.github.com');
    let body = '';
    gh.post('/repos/acme/agents/issues', (b) => {
      body = b.body;
      return b.labels[0] === 'drill';
    }).reply(201, { number: 77, html_url: 'https://github.com/acme/agents/issues/77' });
    const reads = (comments: unknown[], events: unknown[]) => {
      gh.get('/repos/acme/agents/issues/77/comments').query({ per_page: 100 }).reply(200, comments);
      gh.get('/repos/acme/agents/issues/77/events').query({ per_page: 100 }).reply(200, events);
      gh.get('/repos/acme/agents/issues/77').reply(200, { number: 77, state: 'open' });
    };
    const carolAssigned = {
      event: 'assigned',
      created_at: '2026-11-20T09:03:05Z',
      assignee: { login: 'carol', type: 'User' },
    };
    reads([], []);
    reads(
      [
        comment('github-actions[bot]', 'Bot', '2026-11-20T09:00:30Z', 'confirm all'),
        comment('carol', 'User', '2026-11-20T09:04:00Z', 'on it. confirm 1 2'),
      ],
      [carolAssigned],
    );
    reads(
      [
        comment('carol', 'User', '2026-11-20T09:04:00Z', 'on it. confirm 1 2'),
        comment('carol', 'User', '2026-11-20T09:25:00Z', 'confirm 3 4 5 6'),
      ],
      [carolAssigned],
    );
    gh.post('/repos/acme/agents/issues/77/comments', (b) =>
      /Drill ended \(all-steps-confirmed\)/.test(b.body),
    ).reply(201, {});
    gh.patch('/repos/acme/agents/issues/77', { state: 'closed' }).reply(200, {});
    const r = await drill(dir, [], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    gh.done();
    expect(body).toContain('6. Write the timeline');
    expect(body).toContain('`confirm all`');
    const [{ r: rec }] = records(dir) as [{ f: string; r: any }];
    expect(rec).toMatchObject({
      ack_source: 'issue',
      delivered: ['slack', 'issue'],
      acknowledged: { by: '@carol', login: 'carol', seconds: 185 },
      issue: 'https://github.com/acme/agents/issues/77',
    });
    expect(rec.steps.map((s: { confirmed_at: string }) => s.confirmed_at)).toEqual([
      '2026-11-20T09:04:00Z',
      '2026-11-20T09:04:00Z',
      ...Array(4).fill('2026-11-20T09:25:00Z'),
    ]);
  });

  it('reads the acknowledgement the bot recorded in its store; nobody confirming the steps is recorded as an incomplete drill', async () => {
    const dir = repo();
    const path = join(dir, 'bot.sqlite');
    new SqliteWatchStore(path); // the bot's database, migrated
    nock('https://events.pagerduty.com').persist().post('/v2/enqueue').reply(202, { status: 'success' });
    nock('https://hooks.slack.com').post('/services/T1/B1/s3cret').reply(200, 'ok');
    const bot = new SqliteWatchStore(path);
    const r = await drill(
      dir,
      ['--store', 'sqlite:bot.sqlite', '--timeout', '10m', '--poll', '1m'],
      ENV,
      async (n) => {
        // What the bot's PagerDuty webhook does when alice acknowledges, three minutes in.
        if (n === 3) {
          const inc = (await bot.incidents.byKey(KEY))!;
          expect(inc.action).toBe('drill');
          await bot.incidents.ack(inc, T + 3 * 60_000, 'Alice Example (PagerDuty PALICE1)');
        }
      },
    );
    expect(r.code).toBe(1);
    const [{ f, r: rec }] = records(dir) as [{ f: string; r: any }];
    expect(f).toBe('2026-11-20-fast-burn-alice.json');
    expect(rec).toMatchObject({
      ack_source: 'store',
      acknowledged: { login: 'alice', seconds: 180 },
      ended: 'timeout',
    });
    expect(rec.steps.every((s: { confirmed_by: null }) => s.confirmed_by === null)).toBe(true);
    // The drill's record in the store is closed, and never counted as an incident that fired.
    expect((await bot.incidents.byKey(KEY))!.resolved_by).toBe('budget-gate drill');
    const lint = await cli(['runbooks', 'lint', '--policy', 'policy.yml'], { cwd: dir });
    expect(lint.stdout).toContain(
      'drills/2026-11-20-fast-burn-alice.json: steps 1, 2, 3, 4, 5, 6 not confirmed',
    );
  });

  it('a test page nobody can receive is DRILL NOT DELIVERED, exit 2, and no record', async () => {
    const dir = repo();
    new SqliteWatchStore(join(dir, 'bot.sqlite'));
    const r = await drill(dir, ['--store', 'sqlite:bot.sqlite'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`DRILL NOT DELIVERED: ${KEY}: PAGERDUTY_ROUTING_KEY is not set`);
    expect(() => readdirSync(join(dir, 'drills'))).toThrow();
    const none = await drill(dir, [], {});
    expect(none.stderr).toContain('nowhere to see the acknowledgement');
  });
});
