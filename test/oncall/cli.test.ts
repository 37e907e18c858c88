import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { FileLedger } from '../../src/notify/ledger.ts';
import { type AuditEntry, chainRecord, serializeRecord } from '../../src/policy/overrides/audit-chain.ts';
import { DEMO_POLICY, DEMO_TELEMETRY } from '../../src/scenarios/demo.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { newWatch } from '../bot/support.ts';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/tasks.ts';

// The CLI's clock (test/support/cli.ts) is 2026-11-20T09:00Z: Friday 10:00 in Berlin.
const ROOT = resolve(import.meta.dirname, '../..');

afterEach(() => nock.cleanAll());

/** A copy of the examples in a scratch repository, so a test can break one file. */
function exampleRepo(): string {
  const dir = tempDir('bg-repo-');
  cpSync(join(ROOT, 'examples'), join(dir, 'examples'), {
    recursive: true,
    filter: (s) => !s.includes('telemetry'),
  });
  return dir;
}

describe('budget-gate oncall now', () => {
  it('names primary, secondary, next, the ack window and the path on the example rotation', async () => {
    const r = await cli(['oncall', 'now', '--policy', DEMO_POLICY]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'On call at Fri 2026-11-20 10:00 Europe/Berlin',
        '  primary:    @carol (since Mon 2026-11-16 09:00 Europe/Berlin, until Mon 2026-11-23 09:00 Europe/Berlin)',
        '  secondary:  @alice',
        '  next:       @alice (secondary @bob) from Mon 2026-11-23 09:00 Europe/Berlin',
        '  ack window: 5m (business hours)',
        '  escalation: @carol (primary) → +5m @alice (secondary) → +15m @sre-lead (named) → +30m @director (named)',
        '  severities now:',
        '    sev1 pages at any hour',
        '    sev2 pages in business hours, and it is Fri 2026-11-20 10:00 Europe/Berlin',
        '    sev3 never pages: posted to #agent-reliability (owner acme/sre)',
        '',
      ].join('\n'),
    );
  });

  it('--at at night: the overnight window, and sev2 waits for Monday', async () => {
    const r = await cli(['oncall', 'now', '--policy', DEMO_POLICY, '--at', '2026-11-21T22:00:00Z', '--json']);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      primary: 'carol',
      secondary: 'alice',
      ack_window: { text: '15m', business: false },
    });
    expect(j.severities[1]).toMatchObject({
      severity: 'sev2',
      page: false,
      page_at: '2026-11-23T08:00:00.000Z',
    });
  });

  it('says so for a primary-only rotation and for a policy with no rotation', async () => {
    const dir = tempDir();
    const p = join(dir, 'p.yml');
    const head =
      'version: 1\nslos: [{ name: s, sli: { kind: success }, target: 99%, window: 7d, scope: all }]\n';
    writeFileSync(
      p,
      `${head}oncall:\n  members: [solo]\n  mode: primary-only\n  handoff: { every: week, at: "09:00" }\n  start: 2026-11-02\n  escalation: [{ to: primary }, { to: sre-lead, wait: 30m }]\n`,
    );
    expect((await cli(['oncall', 'now', '--policy', p])).stdout).toContain(
      'secondary:  none: a primary-only rotation; unacknowledged pages go to @sre-lead',
    );
    writeFileSync(p, `${head}oncall: { users: [oncall-sre], teams: [sre] }\n`);
    expect((await cli(['oncall', 'now', '--policy', p])).stdout).toContain(
      'No rotation in oncall: reverts request review from @oncall-sre, team sre.',
    );
  });

  it('names the layer holding the pager and says the time on the primary’s own clock', async () => {
    const fixture = join(ROOT, 'test/fixtures/oncall/two-zone-rotation.yml');
    const r = await cli(['oncall', 'now', '--policy', fixture, '--at', '2026-11-07T11:00:00Z']);
    expect(r.stdout).toContain(
      '  layer:      berlin-day\n  their time: Sat 2026-11-07 12:00 Europe/Berlin\n',
    );
    expect(r.stdout).toContain(
      'next:       @bob (secondary @alice) from Sat 2026-11-07 12:00 America/New_York',
    );
    expect(r.stdout).toContain(
      'sev2 pages in business hours only and it is Sat 2026-11-07 12:00 Europe/Berlin: posted to the channel now, paged at Mon 2026-11-09 09:00 Europe/Berlin if still open',
    );
    const json = JSON.parse(
      (await cli(['oncall', 'now', '--policy', fixture, '--at', '2026-11-03T20:00:00Z', '--json'])).stdout,
    );
    expect(json).toMatchObject({
      primary: 'bob',
      primary_timezone: 'America/New_York',
      layer: 'base',
      override: null,
    });
    expect(json.ack_window).toMatchObject({ business: true });
  });
});

/**
 * The bundled example's decision with a sev1 fast-burn alert firing, written to `dir/firing.json`;
 * returns the decision as evaluated (no alert), for a quiet run after it.
 */
async function writeFiring(dir: string): Promise<Record<string, unknown>> {
  const ev = await cli(['evaluate', '--policy', DEMO_POLICY, '--telemetry', DEMO_TELEMETRY, '--json']);
  const decision = JSON.parse(ev.stdout);
  const firing = {
    ...decision,
    alerts: [
      {
        name: 'fast-burn',
        slo: 'tasks-success-paid',
        severity: 'sev1',
        action: 'page',
        burn_rate: 14.4,
        long: '1h',
        short: '5m',
        long_burn: 15,
        short_burn: 20,
        runbook: 'examples/runbooks/fast-burn.md',
      },
    ],
  };
  writeFileSync(join(dir, 'firing.json'), JSON.stringify(firing));
  return decision;
}

describe('budget-gate oncall page', () => {
  it('pages a decision from evaluate --json through PagerDuty and Slack once, and resolves it later', async () => {
    const dir = tempDir();
    const decision = await writeFiring(dir);
    writeFileSync(join(dir, 'quiet.json'), JSON.stringify({ ...decision, alerts: [] }));
    // As a GitHub Actions job runs it: the run is the decision's link, the event names the default branch.
    writeFileSync(join(dir, 'event.json'), JSON.stringify({ repository: { default_branch: 'trunk' } }));
    const env = {
      PAGERDUTY_ROUTING_KEY: 'r'.repeat(32),
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B1/s3cret',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/agents',
      GITHUB_RUN_ID: '991',
      GITHUB_EVENT_PATH: join(dir, 'event.json'),
    };
    const pd: Array<{ event_action: string; links?: unknown }> = [];
    const slack: Array<{ blocks: Array<{ fields?: Array<{ text: string }> }> }> = [];
    nock('https://events.pagerduty.com')
      .persist()
      .post('/v2/enqueue', (b) => pd.push(b) > 0)
      .reply(202, { status: 'success' });
    nock('https://hooks.slack.com')
      .persist()
      .post('/services/T1/B1/s3cret', (b) => slack.push(b) > 0)
      .reply(200, 'ok');
    const args = [
      'oncall',
      'page',
      '--policy',
      DEMO_POLICY,
      '--repo',
      'acme/agents',
      '--deployment',
      'd-1',
      '--ledger',
      join(dir, 'ledger.json'),
    ];

    const first = await cli([...args, '--decision', join(dir, 'firing.json')], { env });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain(
      'budget-gate/acme/agents/alert/fast-burn/tasks-success-paid: pagerduty-trigger, slack (sev1 pages at any hour)',
    );
    // The runbook (a repository path) on the default branch, the run, and who is on call (carol, then alice).
    expect(pd[0]!.links).toEqual([
      {
        href: 'https://github.com/acme/agents/blob/trunk/examples/runbooks/fast-burn.md',
        text: 'runbook examples/runbooks/fast-burn.md',
      },
      {
        href: 'https://github.com/acme/agents/actions/runs/991',
        text: 'budget-gate decision (workflow run)',
      },
      { href: 'https://github.com/carol', text: 'on call: @carol (primary)' },
      { href: 'https://github.com/alice', text: 'on call: @alice (secondary)' },
    ]);
    expect(slack[0]!.blocks[1]!.fields!.map((f) => f.text)).toEqual([
      '*Runbook*\n<https://github.com/acme/agents/blob/trunk/examples/runbooks/fast-burn.md|runbook examples/runbooks/fast-burn.md>',
      '*On call*\n@carol (primary), @alice (secondary)',
      '*Decision*\n<https://github.com/acme/agents/actions/runs/991|budget-gate decision (workflow run)>',
    ]);
    const again = await cli([...args, '--decision', join(dir, 'firing.json')], { env });
    expect(again.stdout).toContain('nothing new to send');
    const quiet = await cli([...args, '--decision', join(dir, 'quiet.json')], { env });
    expect(quiet.stdout).toContain('pagerduty-resolve');
    expect(pd.map((b) => b.event_action)).toEqual(['trigger', 'resolve']);
    expect(JSON.parse(readFileSync(join(dir, 'ledger.json'), 'utf8'))[0]).toMatchObject({
      paged: [],
      resolved_at: expect.any(Number),
    });
  });

  it('a sev1 that no paging service accepts says SEV1 NOT DELIVERED with the reason, exits 2, and Slack never says "paged"', async () => {
    const dir = tempDir();
    await writeFiring(dir);
    const slack: Array<{ text?: string }> = [];
    nock('https://hooks.slack.com')
      .persist()
      .post('/services/T1/B1/s3cret', (b) => slack.push(b) > 0)
      .reply(200, 'ok');
    const page = (ledger: string, env: Record<string, string>) =>
      cli(
        [
          'oncall',
          'page',
          '--policy',
          DEMO_POLICY,
          '--repo',
          'acme/agents',
          '--deployment',
          'd-1',
          '--ledger',
          join(dir, ledger),
          '--decision',
          join(dir, 'firing.json'),
        ],
        { env },
      );
    // No routing key: nothing can page.
    const missing = await page('a.json', {
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B1/s3cret',
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      'SEV1 NOT DELIVERED: budget-gate/acme/agents/alert/fast-burn/tasks-success-paid: PAGERDUTY_ROUTING_KEY is not set, so PagerDuty cannot be asked',
    );
    // PagerDuty refuses: the same, with PagerDuty's answer.
    nock('https://events.pagerduty.com')
      .post('/v2/enqueue')
      .reply(400, { status: 'invalid event', message: 'Event object is invalid' });
    const refused = await page('b.json', {
      PAGERDUTY_ROUTING_KEY: 'r'.repeat(32),
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B1/s3cret',
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /SEV1 NOT DELIVERED: budget-gate\/acme\/agents\/alert\/fast-burn\/tasks-success-paid: .*400/,
    );
    const said = JSON.stringify(slack);
    expect(said).toContain('SEV1 NOT PAGED');
    expect(said).not.toContain('SEV1 paged');
  });

  it('two runs on one ledger at once page once; a corrupt ledger is refused with what to do', async () => {
    const dir = tempDir();
    await writeFiring(dir);
    const env = { PAGERDUTY_ROUTING_KEY: 'r'.repeat(32) };
    const pd: unknown[] = [];
    nock('https://events.pagerduty.com')
      .persist()
      .post('/v2/enqueue', (b) => pd.push(b) > 0)
      .reply(202, { status: 'success' });
    const args = (ledger: string) => [
      'oncall',
      'page',
      '--policy',
      DEMO_POLICY,
      '--repo',
      'acme/agents',
      '--deployment',
      'd-1',
      '--ledger',
      join(dir, ledger),
      '--decision',
      join(dir, 'firing.json'),
    ];
    const runs = await Promise.all([cli(args('ledger.json'), { env }), cli(args('ledger.json'), { env })]);
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    expect(pd).toHaveLength(1);
    expect(runs.map((r) => r.stdout).join('')).toContain('nothing new to send');

    writeFileSync(join(dir, 'broken.json'), '[{"key": "budget-gate/acme');
    const broken = await cli(args('broken.json'), { env });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('broken.json: not JSON (');
    expect(broken.stderr).toContain('move it aside to start a new one');
    expect(broken.stderr).not.toContain('please report this');
  });

  it('refuses a file that is not a decision, with the reason', async () => {
    const r = await cli(
      [
        'oncall',
        'page',
        '--policy',
        DEMO_POLICY,
        '--repo',
        'a/b',
        '--deployment',
        '1',
        '--ledger',
        'x',
        '--decision',
        '-',
      ],
      { stdin: '{"state":"on-fire"}' },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('-: not a decision: state:');
  });
});

describe('budget-gate runbooks lint', () => {
  it('passes the example: both paging runbooks are concrete and drilled; reports the vague one per step', async () => {
    const r = await cli(['runbooks', 'lint', '--policy', DEMO_POLICY, '--root', ROOT]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '✓ fast-burn (sev1, pages): examples/runbooks/fast-burn.md: concrete + drilled',
    );
    // Drilled by every primary, each with a record in examples/drills/ (budget-gate drill).
    expect(r.stdout).toContain(
      'drills (every 30 days): @alice 2026-11-04 (acknowledged in 2m14s), @bob 2026-11-10 (acknowledged in 4m11s), @carol 2026-11-17 (acknowledged in 1m37s)',
    );
    expect(r.stdout).toContain('✓ slow-burn (sev3, does not page): examples/runbooks/slow-burn.md: VAGUE');
    expect(r.stdout).toContain(
      'examples/runbooks/slow-burn.md:9 VAGUE: If the error rate is high, roll back as needed.',
    );
    expect(r.stdout).toContain('- vague wording: "as needed" leaves the decision to the reader');
    expect(r.stdout).toContain('UNVERIFIED');
    expect(r.stdout).toContain('every paging alert has a concrete, drilled runbook');
  });

  it('exits 1 when a paging alert’s runbook is overdue for a drill (fast-burn drills monthly)', async () => {
    const r = await cli([
      'runbooks',
      'lint',
      '--policy',
      DEMO_POLICY,
      '--root',
      ROOT,
      '--at',
      '2026-12-20T09:00:00Z',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ fast-burn (sev1, pages): examples/runbooks/fast-burn.md: concrete');
    expect(r.stdout).toContain('@alice last ran it 2026-11-04, 45 days ago: over the 30-day cadence');
    expect(r.stdout).toContain('@carol 2026-11-17 (acknowledged in 1m37s)');
    expect(r.stdout).toContain('1 paging alert without a concrete, drilled runbook: fast-burn');
  });

  it('exits 1 when a paging alert’s runbook turns vague or goes missing, naming the line', async () => {
    const repo = exampleRepo();
    const file = join(repo, 'examples/runbooks/steady-burn.md');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(/^3\. .*$/m, '3. Roll back the bad change as needed.'),
    );
    const r = await cli(['runbooks', 'lint', '--policy', DEMO_POLICY, '--root', repo]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'examples/runbooks/steady-burn.md:10 VAGUE: Roll back the bad change as needed.',
    );
    expect(r.stdout).toContain('- missing the artifact to act on: a URL, a path, a command');

    writeFileSync(file.replace('steady', 'x'), '');
    cpSync(file, `${file}.bak`);
    const { rmSync } = await import('node:fs');
    rmSync(file);
    const gone = await cli(['runbooks', 'lint', '--policy', DEMO_POLICY, '--root', repo, '--json']);
    expect(JSON.parse(gone.stdout)[1]).toMatchObject({
      alert: 'steady-burn',
      verdict: 'missing',
      fails: true,
      problems: ['examples/runbooks/steady-burn.md: no such file in the repository'],
    });
  });
});

describe('budget-gate readiness', () => {
  it('scores the examples SOFT-LAUNCH ONLY: the vague slow-burn runbook, and members nobody could verify', async () => {
    const r = await cli(['readiness', '--policy', 'examples/error-budget.yml', '--root', ROOT]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('## Readiness: SOFT-LAUNCH ONLY (3/5 gates)');
    expect(r.stdout).toContain(
      'missing: members unverified: no GitHub token was given (GITHUB_TOKEN), so nobody checked that the members are real GitHub users',
    );
    expect(r.stdout).toContain(
      '3 acknowledgement(s) in the last 28 days, the latest by Carol Example (PagerDuty PCAR001) on 2026-11-17 (examples/drills/2026-11-17-fast-burn-carol.json)',
    );
    expect(r.stdout).toContain('❌ **Runbooks for the top 3 alerts**');
    expect(r.stdout).toContain(
      'missing: slow-burn (sev3): examples/runbooks/slow-burn.md is vague (vague steps on lines 7, 8, 9, 10)',
    );
    expect(r.stdout).toContain('why it matters: the person paged may have joined last week');
    expect(r.stdout).toContain(
      'examples/postmortems/2026-10-14-refund-prompt.md ends in: runbook change, drill-schedule change',
    );
  });

  it('is PRODUCTION-READY once the third runbook is concrete and drilled', async () => {
    const repo = exampleRepo();
    writeFileSync(
      join(repo, 'examples/runbooks/slow-burn.md'),
      '# slow-burn\n\nlast drilled: 2026-11-02 by @bob\n\n1. Open https://grafana.internal.example.com/d/agents-errors and run `sum(rate(agent_tasks_total{outcome="error"}[1d]))`. If the ratio is above 1.5%, file a ticket with **Create issue** at https://github.com/acme/agents/issues/new.\n',
    );
    // A `last drilled:` line is a claim: the runbook is drilled once each primary has a record.
    const claimed = await cli(['readiness', '--policy', 'examples/error-budget.yml', '--root', repo]);
    expect(claimed.stdout).toContain('`last drilled: 2026-11-02 by @bob` is a claim, not evidence');
    for (const [login, day] of [
      ['alice', '04'],
      ['bob', '10'],
      ['carol', '17'],
    ] as const) {
      const rec = JSON.parse(
        readFileSync(join(repo, `examples/drills/2026-11-${day}-fast-burn-${login}.json`), 'utf8'),
      );
      rec.alert = 'slow-burn';
      rec.runbook = 'examples/runbooks/slow-burn.md';
      rec.steps = [rec.steps[0]];
      writeFileSync(
        join(repo, `examples/drills/2026-11-${day}-slow-burn-${login}.json`),
        JSON.stringify(rec),
      );
    }
    // With a token: the members are real users in acme/sre (the policy's oncall.teams).
    const gh = nock('https://api.github.com');
    for (const login of ['alice', 'bob', 'carol']) {
      gh.get(`/users/${login}`).reply(200, { login, type: 'User' });
      gh.get(`/orgs/acme/teams/sre/memberships/${login}`).reply(200, { state: 'active', role: 'member' });
    }
    const r = await cli(
      ['readiness', '--policy', 'examples/error-budget.yml', '--root', repo, '--repo', 'acme/agents'],
      { env: { GITHUB_TOKEN: 'ghs_test' } },
    );
    expect(r.stdout).toContain('## Readiness: PRODUCTION-READY (5/5 gates)');
    expect(r.stdout).toContain('@alice, @bob, @carol: real GitHub users in acme/sre');
    expect(r.code).toBe(0);
    gh.done();
  });

  it('says plainly which member does not resolve, and ranks the top alerts by how often they fired', async () => {
    const gh = nock('https://api.github.com');
    gh.get('/users/alice').reply(200, { login: 'alice', type: 'User' });
    gh.get('/users/bob').reply(404, { message: 'Not Found' });
    gh.get('/users/carol').reply(200, { login: 'carol', type: 'Organization' });
    const dir = tempDir();
    const store = new SqliteWatchStore(join(dir, 'bot.sqlite'));
    const day = 86_400_000;
    const now = Date.parse('2026-11-20T09:00:00Z');
    const fire = async (alert: string, times: number) => {
      for (let k = 0; k < times; k++) {
        const inc = await store.incidents.open(
          {
            key: `k/${alert}`,
            repo: 'acme/agents',
            installation_id: 1,
            slo: 's',
            alert,
            severity: 'sev3',
            action: 'ticket',
          },
          now - (k + 1) * day,
        );
        await store.incidents.resolve(inc, now - (k + 1) * day + 3_600_000, 'budget-gate');
      }
    };
    await fire('creeping-burn', 5);
    await fire('slow-burn', 2);
    await store.close();
    const r = await cli(
      [
        'readiness',
        '--policy',
        'examples/error-budget.yml',
        '--root',
        ROOT,
        '--repo',
        'acme/agents',
        '--store',
        `sqlite:${join(dir, 'bot.sqlite')}`,
      ],
      { env: { GITHUB_TOKEN: 'ghs_test' } },
    );
    expect(r.stdout).toContain('missing: @bob unverified: no such GitHub user');
    expect(r.stdout).toContain('missing: @carol unverified: a GitHub Organization, not a person');
    expect(r.stdout).toContain(
      "top alerts by how often they fired (the bot's store, last 90 days): creeping-burn 5×, slow-burn 2×, fast-burn 0×",
    );
    expect(r.stdout).toContain(
      'missing: creeping-burn (sev3): https://runbooks.example.com/agents/creeping-burn is unverified',
    );
    gh.done();
  });

  it('is NOT YET for a bare policy: no states, no approvers, no rotation, no runbooks, no postmortems', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '.github'));
    writeFileSync(
      join(dir, '.github/error-budget.yml'),
      'version: 1\nslos: [{ name: s, sli: { kind: success }, target: 99%, window: 7d, scope: all }]\n',
    );
    const r = await cli(['readiness', '--root', dir, '--json']);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ score: 1, verdict: 'NOT YET' });
    expect(j.gates.map((g: { passed: boolean }) => g.passed)).toEqual([true, false, false, false, false]);
    expect(j.gates[2].missing).toEqual([
      'oncall.members, handoff and start: a rotation, not a list of reviewers',
    ]);
    expect(j.gates[4].missing).toEqual([
      'a postmortem template at postmortems/TEMPLATE.md',
      'postmortems in postmortems/: none written yet',
    ]);
  });

  it('a postmortem that changes no runbook and no drill fails the ritual gate', async () => {
    const repo = exampleRepo();
    writeFileSync(
      join(repo, 'examples/postmortems/2026-11-01-outage.md'),
      '# Outage\n\n## Action items\n\n- [ ] Be more careful next time.\n',
    );
    const r = await cli(['readiness', '--policy', 'examples/error-budget.yml', '--root', repo]);
    expect(r.stdout).toContain(
      'missing: examples/postmortems/2026-11-01-outage.md ends in no runbook change, new runbook or drill-schedule change',
    );
  });
});

describe('budget-gate audit report', () => {
  const base = { repo: 'acme/agents', author: 'dev', source: 'action' as const, sha: 'a'.repeat(40) };
  const used = (i: number, reason: string, actor: string, slo: string, day: string): AuditEntry => ({
    ...base,
    kind: 'override-applied',
    pull_request: i,
    label: `override:${reason}`,
    reason,
    actor,
    at: `2026-${day}T10:00:00.000Z`,
    state: 'soft-pause',
    message: `soft-pause overridden by @${actor}`,
    slos: [
      { name: slo, consumed: 0.62, state: 'soft-pause' },
      { name: 'task-cost', consumed: 0.1, state: 'ship' },
    ],
  });
  function writeLog(entries: AuditEntry[]): string {
    let prev = null;
    let text = '';
    for (const e of entries) {
      prev = chainRecord(prev, e);
      text += serializeRecord(prev);
    }
    const f = join(tempDir(), 'audit.jsonl');
    writeFileSync(f, text);
    return f;
  }
  const log = () =>
    writeLog([
      used(1, 'slo-wrong', 'sre-lead', 'task-latency-paid', '09-20'),
      used(2, 'slo-wrong', 'sre-lead', 'task-latency-paid', '10-03'),
      used(3, 'catastrophic-event', 'vp-eng', 'tasks-success-paid', '10-10'),
      used(4, 'slo-wrong', 'ops', 'task-latency-paid', '10-21'),
      {
        ...used(5, 'yolo', 'dev', 'tasks-success-paid', '10-22'),
        kind: 'override-refused',
        message: 'unknown reason yolo',
      },
    ]);

  it('groups exceptions by reason, approver and SLO, lists refusals, and flags the SLO the team keeps calling wrong', async () => {
    const r = await cli(['audit', 'report', log(), '--since', '2026-10-01']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('chain intact, head #5');
    expect(r.stdout).toContain('4 records in the period');
    expect(r.stdout).toContain('## Exceptions (3)');
    expect(r.stdout).toContain('| slo-wrong | 2 |\n| catastrophic-event | 1 |');
    expect(r.stdout).toContain('| ops | 1 |\n| sre-lead | 1 |\n| vp-eng | 1 |');
    expect(r.stdout).toContain('| task-latency-paid | 2 |\n| tasks-success-paid | 1 |');
    expect(r.stdout).toContain(
      '## Refused attempts (1)\n\n- 2026-10-22T10\\:00 acme/agents#5 `override:yolo` by @dev: unknown reason yolo',
    );
    expect(r.stdout).toContain('- **task-latency-paid**: 2 slo-wrong overrides (2026-10-03, 2026-10-21)');
  });

  it('refuses a retro from a tampered log', async () => {
    const f = log();
    writeFileSync(f, readFileSync(f, 'utf8').replace('vp-eng', 'nobody'));
    const r = await cli(['audit', 'report', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(':3: record 3 was edited');
    expect(r.stdout).toContain('no retro from a log that cannot be trusted');
  });

  it('audit verify still works beside it', async () => {
    expect((await cli(['audit', 'verify', log()])).code).toBe(0);
  });
});

describe('budget-gate handoff', () => {
  it('summarises the shift from telemetry, the bot store and the audit log, in Markdown', async () => {
    const dir = tempDir();
    const storePath = join(dir, 'bot.sqlite');
    const store = new SqliteWatchStore(storePath);
    const deployed = Date.parse('2026-11-19T14:00:00Z');
    await store.add(newWatch(11, deployed, { pull_title: 'New refund prompt' }), deployed);
    await store.claim('r', deployed + 60_000, 3_600_000, 10);
    await store.startRevert(11, 'r', deployed + 16 * 60_000, '{}');
    await store.finish(11, 'r', deployed + 17 * 60_000, {
      status: 'reverted',
      revert_pr: 77,
      reason: 'burned 25% of the budget in 16 minutes',
    });
    await store.close();
    let prev = null;
    prev = chainRecord(prev, {
      kind: 'override-applied',
      repo: 'acme/agents',
      pull_request: 9,
      sha: null,
      label: 'override:regulatory',
      reason: 'regulatory',
      actor: 'sre-lead',
      author: 'dev',
      at: '2026-11-19T16:00:00.000Z',
      state: 'soft-pause',
      message: 'm',
      source: 'action',
    });
    writeFileSync(join(dir, 'audit.jsonl'), serializeRecord(prev));

    const r = await cli([
      'handoff',
      '--policy',
      DEMO_POLICY,
      '--telemetry',
      DEMO_TELEMETRY,
      '--since',
      '2026-11-19T09:00:00Z',
      '--store',
      `sqlite:${storePath}`,
      '--audit',
      join(dir, 'audit.jsonl'),
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain(
      '# Handoff: Thu 2026-11-19 10:00 Europe/Berlin → Fri 2026-11-20 10:00 Europe/Berlin',
    );
    expect(r.stdout).toContain(
      'On call: @carol (secondary @alice); next handoff to @alice at Mon 2026-11-23 09:00 Europe/Berlin.',
    );
    expect(r.stdout).toContain('State now: **SOFT-PAUSE**.');
    expect(r.stdout).toMatch(
      /\| tasks-success-paid \| 5\d\.\d% \| 6\d\.\d% \| \+\d\.\d pts \| soft-pause \|/,
    );
    expect(r.stdout).toContain('- sev3 **creeping-burn** on tasks-success-paid: first seen 2026-11-19 09:00');
    expect(r.stdout).toContain(
      '- 2026-11-19 14:00 Codertocat/Hello-World production f95f852 (#42 New refund prompt): reverted, burned 25% of the budget in 16 minutes',
    );
    expect(r.stdout).toContain(
      '- deployment 11 (f95f852): revert #77 opened 2026-11-19 14:17 UTC: burned 25% of the budget in 16 minutes',
    );
    expect(r.stdout).toContain(
      '- 2026-11-19 16:00 UTC used: `override:regulatory` by @sre-lead on acme/agents#9 (soft-pause)',
    );
  });

  it('--store with a mistyped path refuses, and creates no empty database', async () => {
    const dir = tempDir();
    const missing = join(dir, 'data', 'budget-gate.sqlite');
    const r = await cli([
      'handoff',
      '--policy',
      DEMO_POLICY,
      '--since',
      '2026-11-19T09:00:00Z',
      '--store',
      `sqlite:${missing}`,
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `budget-gate handoff: --store sqlite:${missing}: no database at ${missing}: the bot writes it (BUDGET_GATE_STORE, default sqlite:./data/budget-gate.sqlite); check the path\n`,
    );
    expect(existsSync(missing)).toBe(false);
    const bad = await cli([
      'handoff',
      '--policy',
      DEMO_POLICY,
      '--since',
      '2026-11-19T09:00:00Z',
      '--store',
      'mysql://x',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--store: BUDGET_GATE_STORE: expected sqlite:<path> or a postgres:// URL');
  });

  it('says what it does not know instead of guessing', async () => {
    const r = await cli(['handoff', '--policy', DEMO_POLICY, '--since', '2026-11-19T09:00:00Z']);
    expect(r.stdout).toContain('No telemetry given (--telemetry or --prometheus): budget state unknown.');
    expect(r.stdout).toContain('No bot store given (--store): deploys unknown.');
    expect(r.stdout).toContain('No audit log given (--audit): overrides unknown.');
    // Without --since: since the last handoff (carol's shift began Monday 09:00 Berlin).
    expect((await cli(['handoff', '--policy', DEMO_POLICY])).stdout).toContain(
      '# Handoff: Mon 2026-11-16 09:00 Europe/Berlin → Fri 2026-11-20 10:00 Europe/Berlin',
    );
    expect(r.stdout).toContain(
      'No bot store (--store) or oncall page ledger (--ledger) given: incidents and pages unknown.',
    );
  });

  it('the whole shift from the bot’s store: every incident, the unacknowledged page, the night pages, MTTA and MTTR by shift and month', async () => {
    const dir = tempDir();
    const path = join(dir, 'bot.sqlite');
    const store = new SqliteWatchStore(path);
    const at = (s: string) => Date.parse(s);
    const page = async (alert: string, opened: string, o: { ack?: string; resolved?: string } = {}) => {
      const inc = await store.incidents.open(
        {
          key: `budget-gate/acme/agents/alert/${alert}/s`,
          repo: 'acme/agents',
          installation_id: 1,
          slo: 's',
          alert,
          severity: 'sev1',
          action: 'page',
        },
        at(opened),
      );
      await store.incidents.note(inc, { at: at(opened), kind: 'pagerduty-trigger', text: 'paged' });
      if (o.ack) await store.incidents.ack(inc, at(o.ack), '@carol');
      if (o.resolved) await store.incidents.resolve(inc, at(o.resolved), 'budget-gate');
    };
    // Alice's week (Nov 2-9): one page, acknowledged in 4 minutes, recovered in an hour.
    await page('fast-burn', '2026-11-04T13:00:00Z', {
      ack: '2026-11-04T13:04:00Z',
      resolved: '2026-11-04T14:00:00Z',
    });
    // Carol's shift: a 03:10 Berlin page (night) acknowledged in 10 minutes, and one nobody acknowledged.
    await page('fast-burn', '2026-11-18T02:10:00Z', {
      ack: '2026-11-18T02:20:00Z',
      resolved: '2026-11-18T03:20:00Z',
    });
    await page('steady-burn', '2026-11-19T15:00:00Z');
    await store.close();
    const r = await cli([
      'handoff',
      '--policy',
      DEMO_POLICY,
      '--store',
      `sqlite:${path}`,
      '--repo',
      'acme/agents',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      // Who acknowledged is as the store recorded it (a PagerDuty name, a GitHub login), written as
      // text: a backslash before `@` renders as `@` and mentions no one.
      '- sev1 **fast-burn** (acme/agents), opened Wed 2026-11-18 03:10 Europe/Berlin, paged: acknowledged by \\@carol after 10m; resolved after 1.2h by budget-gate',
    );
    expect(r.stdout).toContain(
      '- sev1 **steady-burn** (acme/agents), opened Thu 2026-11-19 16:00 Europe/Berlin, paged: **not acknowledged**; **still open**',
    );
    expect(r.stdout).toContain(
      '## Unacknowledged pages\n\n- sev1 **steady-burn** paged Thu 2026-11-19 16:00 Europe/Berlin: nobody acknowledged it',
    );
    expect(r.stdout).toContain('| Mon 2026-11-16 09:00 Europe/Berlin | @carol | 2 | 1 | 1 | 10m | 1.2h |');
    expect(r.stdout).toContain('| Mon 2026-11-02 09:00 Europe/Berlin | @alice | 1 | 0 | 0 | 4m | 1.0h |');
    expect(r.stdout).toContain('| **month** | | 3 | 1 | 1 | 7m | 1.1h |');
  });

  it('for a team that runs only the CLI: the pages oncall page sent, from its ledger, without acknowledgements', async () => {
    const dir = tempDir();
    const ledger = new FileLedger(join(dir, 'ledger.json'));
    const e = { repo: 'acme/agents', kind: 'alert', severity: 'sev1', posted: [] };
    await ledger.put({
      ...e,
      key: 'budget-gate/acme/agents/alert/fast-burn/s',
      raised_at: Date.parse('2026-11-18T02:10:00Z'),
      paged: [],
      resolved_at: Date.parse('2026-11-18T04:10:00Z'),
    });
    await ledger.put({
      ...e,
      key: 'budget-gate/acme/agents/alert/fast-burn/s',
      raised_at: Date.parse('2026-11-19T12:00:00Z'),
      paged: ['budget-gate/acme/agents/alert/fast-burn/s'],
      resolved_at: null,
    });
    const r = await cli(['handoff', '--policy', DEMO_POLICY, '--ledger', join(dir, 'ledger.json')]);
    expect(r.stdout).toContain('Acknowledgements are not in the ledger');
    expect(r.stdout).toContain('| Mon 2026-11-16 09:00 Europe/Berlin | @carol | 1 | 0 | n/a | n/a | n/a |');
    expect(r.stdout).toContain('MTTA needs acknowledgements');
  });
});
