import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml, stringify } from 'yaml';
import { rotationOf, shiftAt } from '../../src/policy/oncall/rotation.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { parseTaskLine } from '../../src/telemetry/jsonl/record.ts';
import { checkReport, entry, hostile, logOf } from '../support/audit-markdown.ts';
import { AT, AT_ISO, check, cli, type Run } from './harness.ts';
import {
  count,
  dir,
  durationText,
  file,
  leaf,
  mutate,
  mutation,
  seedPolicy,
  TASK_FILE,
  timeValue,
  yamlNoise,
} from './targets.ts';

// Fuzz targets for the surfaces added since the first round (issue 25): each an arbitrary of
// adversarial inputs and, besides the exit contract (0, 1 or 2; 70 is a bug; a 2 says where; no
// stack), a property of what an exit-0 (or exit-1) answer says.

const ROOT = new URL('../../', import.meta.url).pathname;
const fixtureText = (p: string) => readFileSync(join(ROOT, p), 'utf8');

/** Throws with the run when `ok` is false: the property an answer must keep. */
function holds(ok: boolean, what: string, r: Run): void {
  if (!ok) throw new Error(`${what}\nstdout: ${r.stdout.slice(0, 1500)}\nstderr: ${r.stderr.slice(0, 500)}`);
}

const timeFlag = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .integer({ min: AT - 40 * 86_400_000, max: AT + 86_400_000 })
      .map((t) => new Date(t).toISOString()),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '0',
      '253402300799999',
      '99999999999999999',
      '2026-02-30T00:00:00Z',
      '2026-11-20',
      'now',
      '',
      '-1',
    ),
  },
  { weight: 1, arbitrary: timeValue.map(String) },
);

// ── import ──────────────────────────────────────────────────────────────────────────────────────

const SPECS = {
  sloth: [
    'sloth/getting-started.yml',
    'sloth/home-wifi.yml',
    'sloth/k8s-getting-started.yml',
    'sloth/multifile.yml',
  ],
  pyrra: [
    'pyrra/slo-coredns-response-errors.yaml',
    'pyrra/caddy-response-latency.yaml',
    'pyrra/pyrra-connect-latency.yaml',
  ],
  openslo: [
    'openslo/slos.yaml',
    'openslo/v1_slos.yaml',
    'openslo/openslo-getting-started.yml',
    'osko/openslo_v1_slo.yaml',
  ],
} as const;

let written = 0;
const importTarget = fc.asyncProperty(
  fc.constantFrom('sloth', 'pyrra', 'openslo'),
  fc.nat(),
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.array(mutation, { maxLength: 4 }).map((ms) => ({ kind: 'mutate' as const, ms })),
    },
    { weight: 2, arbitrary: yamlNoise.map((text) => ({ kind: 'noise' as const, text })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((text) => ({ kind: 'noise' as const, text })) },
  ),
  fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: durationText }),
  fc.constantFrom(
    'stdout',
    'stdout',
    'stdout',
    'stdout',
    'file',
    'file',
    '/proc/bg-fuzz.yml',
    '/dev/full',
    'folder',
  ),
  async (tool, pick, spec, window, out) => {
    const names = SPECS[tool];
    let text: string;
    if (spec.kind === 'noise') text = spec.text;
    else {
      const docs = fixtureText(`test/fixtures/import/${names[pick % names.length]}`)
        .split(/^---$/m)
        .map((d) => parseYaml(d) as unknown);
      text = docs.map((d) => stringify(mutate(d, spec.ms))).join('---\n');
    }
    const path = file(`spec-${tool}.yaml`, text);
    const target = out === 'file' ? join(dir, `imported-${++written}.yml`) : out === 'folder' ? dir : out;
    const args = [
      'import',
      tool,
      path,
      ...(window ? ['--window', window] : []),
      ...(out === 'stdout' ? [] : ['--out', target]),
    ];
    const r = await cli(args);
    check('import', r, [0, 2], /import|--window|--out|\.ya?ml/);
    if (r.code !== 0) return;
    // Property: what import writes is a policy lint accepts, with at least one SLO.
    const policy = out === 'stdout' ? r.stdout : readFileSync(target, 'utf8');
    let slos = 0;
    try {
      slos = loadPolicy(policy, 'imported').policy.slos.length;
    } catch (e) {
      holds(false, `import wrote a policy lint refuses: ${(e as Error).message}`, r);
    }
    holds(slos >= 1, 'import exited 0 with no SLO', r);
  },
);

// ── on-call ─────────────────────────────────────────────────────────────────────────────────────

/** Zones whose nights are odd: DST both ways, half-hour DST, no DST, the southern hemisphere. */
const ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'America/Santiago',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'UTC',
];

const rotation = fc.record({
  members: fc.oneof(
    fc.constant(['alice', 'bob', 'carol']),
    fc.constant(['alice', 'Alice']),
    fc.constant(['solo']),
    fc.array(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { minLength: 1, maxLength: 6 }),
  ),
  timezone: fc.constantFrom(...ZONES),
  handoff: fc.record({
    every: fc.constantFrom('day', 'week'),
    at: fc.constantFrom('09:00', '00:00', '02:30', '01:30', '03:00', '23:59', '2:30', '24:00'),
  }),
  start: fc.integer({ min: Date.parse('2020-01-06'), max: Date.parse('2034-12-25') }).map((t) => {
    // A Monday, so a weekly handoff on mon starts on its day.
    const d = new Date(t - ((new Date(t).getUTCDay() + 6) % 7) * 86_400_000);
    return d.toISOString().slice(0, 10);
  }),
  mode: fc.constantFrom('primary-only', 'primary-secondary'),
  escalation: fc.constant([{ to: 'primary' }, { to: 'sre-lead', wait: '10m' }]),
});

/** The zone's UTC offset changes (DST) in [from, to], to the minute. */
function transitions(zone: string, from: number, to: number): number[] {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const offset = (t: number) => {
    const parts = format.formatToParts(t);
    return parts.find((p) => p.type === 'timeZoneName')!.value;
  };
  const out: number[] = [];
  let prev = offset(from);
  for (let t = from + 3_600_000; t <= to; t += 3_600_000) {
    const o = offset(t);
    if (o !== prev) {
      let lo = t - 3_600_000;
      let hi = t;
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
        if (offset(mid) === prev) lo = mid;
        else hi = mid;
      }
      out.push(hi);
      prev = o;
    }
  }
  return out;
}

const oncallTarget = fc.asyncProperty(
  rotation,
  fc.oneof(
    { weight: 3, arbitrary: fc.constant([]) },
    { weight: 1, arbitrary: fc.array(mutation, { maxLength: 2 }) },
  ),
  timeFlag,
  fc.nat(3),
  async (o, maybe, at, mode) => {
    const ms: Parameters<typeof mutate>[1] = maybe ? [...maybe] : [];
    const body = mutate(
      {
        version: 1,
        slos: seedPolicy().slos,
        oncall: { ...o, handoff: o.handoff.every === 'week' ? { ...o.handoff, day: 'mon' } : o.handoff },
      },
      ms,
    );
    const path = file('oncall.yml', stringify(body));
    const lint = await cli(['lint', path]);
    check('oncall-lint', lint, [0, 2], /oncall\.yml:\d+:\d+/);
    if (lint.code !== 0) return;
    if (mode === 3) {
      // Paging with a ledger an attacker wrote (no notify configured: nothing leaves the machine).
      const ledger = file(
        'ledger.json',
        JSON.stringify(
          mutate(
            [
              {
                key: 'k',
                repo: 'o/r',
                kind: 'alert',
                severity: 'sev1',
                raised_at: AT,
                paged: [],
                posted: [],
                resolved_at: null,
              },
            ],
            ms,
          ),
        ),
      );
      const decision = await cli([
        'evaluate',
        '--policy',
        path,
        '--telemetry',
        TASK_FILE,
        '--at',
        AT_ISO,
        '--json',
      ]);
      const d = file('decision.json', decision.stdout);
      const r = await cli([
        'oncall',
        'page',
        '--policy',
        path,
        '--decision',
        d,
        '--repo',
        'o/r',
        '--deployment',
        '1',
        '--ledger',
        ledger,
        `--at=${at}`,
      ]);
      check('oncall-page', r, [0, 2], /ledger|--at|decision|not delivered|NOT DELIVERED|page/i);
      return;
    }
    const r = await cli(['oncall', 'now', '--policy', path, `--at=${at}`, '--json']);
    check('oncall-now', r, [0, 2], /--at /);
    if (r.code !== 0) return;
    const j = JSON.parse(r.stdout) as {
      at?: string;
      primary?: string;
      secondary?: string | null;
      shift?: { starts: string; ends: string };
      rotation?: null;
    };
    if (j.rotation === null) return;
    const t = Date.parse(j.at!);
    // Properties: one primary, inside its shift; a secondary is someone else.
    holds(typeof j.primary === 'string' && j.primary.length > 0, 'no primary', r);
    holds(
      Date.parse(j.shift!.starts) <= t && t < Date.parse(j.shift!.ends),
      'the instant is outside its shift',
      r,
    );
    holds(
      j.secondary === null || j.secondary!.toLowerCase() !== j.primary!.toLowerCase(),
      'primary and secondary are one person',
      r,
    );
    // Exactly one primary at every minute across the DST night nearest --at: each minute inside its
    // shift, and each handover exactly at the shift's end, to the person it named as next.
    const policy = loadPolicy(readFileSync(path, 'utf8'), path).policy;
    const rot = rotationOf(policy.oncall);
    if (!rot) return;
    const year = new Date(t).getUTCFullYear();
    const nights = transitions(rot.zone, Date.UTC(year, 0, 1), Date.UTC(year, 11, 31));
    const night = nights.sort((a, b) => Math.abs(a - t) - Math.abs(b - t))[0] ?? t;
    let prev = shiftAt(rot, night - 4 * 3_600_000 - 60_000);
    for (let m = night - 4 * 3_600_000; m <= night + 4 * 3_600_000; m += 60_000) {
      const s = shiftAt(rot, m);
      holds(
        typeof s.primary === 'string' && s.primary.length > 0,
        `no primary at ${new Date(m).toISOString()}`,
        r,
      );
      holds(
        s.starts <= m && m < s.ends,
        `${new Date(m).toISOString()} is outside its shift [${new Date(s.starts).toISOString()}, ${new Date(s.ends).toISOString()})`,
        r,
      );
      if (prev.ends <= m) {
        holds(
          s.starts === prev.ends,
          `a gap or overlap at ${new Date(m).toISOString()}: the shift before ended ${new Date(prev.ends).toISOString()}, this one starts ${new Date(s.starts).toISOString()}`,
          r,
        );
        holds(
          s.primary === prev.next.primary,
          `${new Date(m).toISOString()}: @${s.primary} took over, the shift before named @${prev.next.primary}`,
          r,
        );
      } else
        holds(
          s.primary === prev.primary && s.starts === prev.starts,
          `the primary changed mid-shift at ${new Date(m).toISOString()}`,
          r,
        );
      prev = s;
    }
    count('oncall-now:dst-night-checked');
  },
);

// ── audit report ────────────────────────────────────────────────────────────────────────────────

const auditReportTarget = fc.asyncProperty(
  fc.array(entry, { maxLength: 6 }),
  fc.oneof(fc.constant(null), fc.nat(), fc.string({ maxLength: 40 })),
  fc.option(
    fc.oneof(fc.constantFrom('2026-01-01', '2026-11-01', 'x', '9999-12-31'), fc.string({ maxLength: 10 })),
    { nil: undefined },
  ),
  async (entries, damage, since) => {
    let log = logOf(entries);
    // Sometimes a byte flipped or a line added: the chain must then be said broken, with its line.
    if (typeof damage === 'number' && log.length)
      log = `${log.slice(0, damage % log.length)}x${log.slice((damage % log.length) + 1)}`;
    else if (typeof damage === 'string') log += `${damage}\n`;
    const path = file('audit.jsonl', log);
    const args = ['audit', 'report', path, ...(since !== undefined ? ['--since', since] : [])];
    const r = await cli(args);
    check('audit-report', r, [0, 1, 2], /--since|audit/);
    if (r.code === 1) holds(/audit\.jsonl:\d+: /.test(r.stdout), 'a broken chain without its line', r);
    if (r.code !== 0) return;
    const json = await cli([...args, '--json']);
    // Property: the Markdown renders back to the same records --json gives.
    try {
      checkReport(r.stdout, JSON.parse(json.stdout) as Record<string, unknown>);
    } catch (e) {
      holds(false, (e as Error).message, r);
    }
  },
);

// ── --change ────────────────────────────────────────────────────────────────────────────────────

const seedChange = () => ({
  files: ['prompts/a.md', 'src/x.ts'],
  labels: [
    {
      name: 'override:slo-wrong',
      applied_by: 'sre-lead',
      applied_at: new Date(AT - 3_600_000).toISOString(),
      applier_teams: [],
      applier_permission: 'admin',
    },
  ],
  author: 'dev',
  last_push_at: new Date(AT - 7_200_000).toISOString(),
  contributors: [{ login: 'dev', as: 'author', commit: 'a'.repeat(40) }],
  title: 'Change',
  head_ref: 'feature',
  commit_messages: ['x'],
  revert_evidence: null,
});

const changeTarget = fc.asyncProperty(
  fc.array(
    fc.record({
      at: fc.nat(),
      op: fc.constantFrom('set', 'set', 'delete', 'dup'),
      value: fc.oneof(leaf, timeValue, hostile),
    }),
    { maxLength: 4 },
  ),
  fc.boolean(),
  async (ms, bytes) => {
    const text = bytes
      ? JSON.stringify(mutate(seedChange(), ms)).slice(0, 1 + ((ms.length * 37) % 400))
      : JSON.stringify(mutate(seedChange(), ms));
    const change = file('change.json', text);
    const policy = file(
      'p.yml',
      stringify({
        ...seedPolicy(),
        overrides: { reasons: ['slo-wrong'], approvers: { users: ['sre-lead'] } },
      }),
    );
    const r = await cli([
      'evaluate',
      '--policy',
      policy,
      '--telemetry',
      TASK_FILE,
      '--change',
      change,
      '--at',
      AT_ISO,
      '--json',
    ]);
    check('change', r, [0, 1, 2], /--change /);
    if (r.code === 2) return;
    const d = JSON.parse(r.stdout) as {
      allowed: boolean;
      override: { label: string; applied_at: string } | null;
    };
    // Properties: the exit is the verdict; an override honoured is a label of the change, applied
    // before the evaluation time (five minutes of clock difference aside).
    holds(d.allowed === (r.code === 0), 'the exit status and the decision disagree', r);
    if (d.override) {
      const parsed = JSON.parse(text) as { labels?: Array<{ name?: unknown }> };
      holds(
        !!parsed.labels?.some((l) => l.name === d.override!.label),
        'an override from no label of the change',
        r,
      );
      holds(
        Date.parse(d.override.applied_at) <= AT + 5 * 60_000,
        `an override applied after --at counted: ${d.override.applied_at}`,
        r,
      );
    }
  },
);

// ── canary ──────────────────────────────────────────────────────────────────────────────────────

const canaryTarget = fc.asyncProperty(
  fc.array(mutation, { maxLength: 2 }),
  timeFlag,
  timeFlag,
  fc.boolean(),
  async (ms, deployedAt, at, replay) => {
    const policy = file('p.yml', stringify(mutate(seedPolicy(), ms)));
    const args = [
      'canary',
      '--policy',
      policy,
      '--telemetry',
      TASK_FILE,
      `--deployed-at=${deployedAt}`,
      '--json',
      ...(replay ? ['--replay'] : [`--at=${at}`]),
    ];
    const r = await cli(args);
    check('canary', r, [0, 1, 2], /--deployed-at|--at|--replay|p\.yml|tasks\.jsonl|auto_revert|:\d+/);
    if (r.code === 2) return;
    const j = JSON.parse(r.stdout) as {
      breach?: boolean;
      verdict?: string;
      deployed_at?: string;
      at?: string;
    };
    // Properties: the exit is the verdict; a deploy is judged only once it was live.
    if (replay)
      holds((j.verdict === 'revert') === (r.code === 1), 'the exit status and the replay disagree', r);
    else {
      holds(j.breach === (r.code === 1), 'the exit status and the assessment disagree', r);
      holds(Date.parse(j.deployed_at!) <= Date.parse(j.at!), 'a deploy judged before it went live', r);
    }
  },
);

// ── simulate ────────────────────────────────────────────────────────────────────────────────────

const flagValue = (valid: readonly string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...valid) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.constantFrom('1e9', '-1', 'NaN', '1e400', '0', '') },
  );

const simulateTarget = fc.asyncProperty(
  fc.boolean(),
  fc.record(
    {
      days: flagValue(['0.01', '0.05', '0.02']),
      every: flagValue(['5m', '1h', '3h', '1ms', '30d', '31d']),
      'outages-per-day': flagValue(['0', '0.67', '24', '25']),
      factor: flagValue(['2', '100', '101']),
      'bad-share': flagValue(['0', '0.5', '1']),
      seed: flagValue(['7', '0', '2147483647']),
      start: flagValue(['2026-11-02T00:00:00Z', '2026-03-29T00:30:00+01:00', '9999-01-01T00:00:00Z']),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      scenario: flagValue(['healthy', 'rising', 'on-fire']),
      target: flagValue(['0.95', '0.999', '1']),
      'tasks-per-day': flagValue(['100', '500']),
    },
    { requiredKeys: [] },
  ),
  async (fleet, fleetFlags, flags) => {
    if (fleet) {
      const out = join(dir, `fleet-${Math.random().toString(36).slice(2)}`);
      // Long runs are bounded but slow: the fuzz keeps to a small fraction of a day.
      const days = fleetFlags.days && Number(fleetFlags.days) > 0.05 ? '0.05' : fleetFlags.days;
      const args = [
        'simulate',
        '--fleet',
        '--out',
        out,
        ...Object.entries({ ...fleetFlags, ...(days !== undefined ? { days } : {}) }).map(
          ([k, v]) => `--${k}=${v}`,
        ),
      ];
      const r = await cli(args);
      check('simulate-fleet', r, [0, 2], /--[a-z-]+/);
      if (r.code !== 0) return;
      // Properties: every line is a task the JSONL contract accepts; the count is the one said;
      // every deploy is inside the run.
      const lines = readFileSync(join(out, 'telemetry.jsonl'), 'utf8').split('\n').filter(Boolean);
      for (const l of lines) holds('record' in parseTaskLine(l), `a line the contract refuses: ${l}`, r);
      const said = Number(/: ([\d,]+) tasks/.exec(r.stdout)?.[1]?.replace(/,/g, ''));
      holds(said === lines.length, `said ${said} tasks, wrote ${lines.length}`, r);
      const truth = JSON.parse(readFileSync(join(out, 'truth.json'), 'utf8')) as {
        start: string;
        end: string;
        deploys: { at: string }[];
      };
      for (const d of truth.deploys)
        holds(d.at >= truth.start.slice(0, 16) && d.at < truth.end, `a deploy outside the run: ${d.at}`, r);
      return;
    }
    const r = await cli(['simulate', ...Object.entries(flags).map(([k, v]) => `--${k}=${v}`), '--json']);
    check('simulate', r, [0, 2], /--[a-z-]+/);
    if (r.code !== 0) return;
    const j = JSON.parse(r.stdout) as { days: { state: string }[]; verdict: { final_state: string } };
    holds(
      j.days.length === 30 && j.verdict.final_state === j.days[29]!.state,
      'the verdict is not the last day',
      r,
    );
  },
);

// ── handoff ─────────────────────────────────────────────────────────────────────────────────────

const handoffTarget = fc.asyncProperty(
  timeFlag,
  timeFlag,
  fc.option(fc.array(entry, { maxLength: 4 }), { nil: undefined }),
  fc.constantFrom(
    'none',
    'none',
    'not-a-database.sqlite',
    'empty.sqlite',
    'other-app.sqlite',
    '/dev/zero',
    'missing',
  ),
  async (since, at, audit, store) => {
    const policy = join(ROOT, 'examples/error-budget.yml');
    const args = ['handoff', '--policy', policy, `--since=${since}`, `--at=${at}`, '--telemetry', TASK_FILE];
    if (audit) args.push('--audit', file('audit.jsonl', logOf(audit)));
    if (store !== 'none')
      args.push(
        '--store',
        `sqlite:${store.startsWith('/') ? store : store === 'missing' ? join(dir, 'missing.sqlite') : join(ROOT, 'test/fixtures/hostile/store', store)}`,
      );
    const r = await cli(args);
    check('handoff', r, [0, 2], /--since|--at|--store|--audit|telemetry|tasks\.jsonl/);
    if (r.code !== 0) return;
    // Property: the summary has its sections, in order, whatever the audit log's fields held.
    const where = [
      '# Handoff: ',
      '## Budget',
      '## Incidents and pages',
      '## Unacknowledged pages',
      '## Schedule changes',
      '## Load',
      '## Alerts that fired',
      '## Deploys and watches',
      '## Overrides',
    ].map((h) => r.stdout.indexOf(h));
    holds(
      where.every((i, k) => i >= 0 && (k === 0 || i > where[k - 1]!)),
      'a section is missing or out of order',
      r,
    );
    holds(
      !/^#{1,2} (?!Handoff|Budget|Incidents and pages|Unacknowledged pages|Schedule changes|Load|Alerts that fired|Deploys and watches|Reverts|Overrides)/m.test(
        r.stdout,
      ),
      'a heading no section writes',
      r,
    );
  },
);

// ── runbooks and readiness, in a repository an attacker laid out ──────────────────────────────

const SECRET = 'SECRET-MARKER-7f3a';
const outside = file(
  'outside-secret.md',
  `# Secret\n\n1. ${SECRET}: run \`rm -rf /\` when the **panel** shows > 5%\n`,
);

const repoFile = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .constantFrom('fast-burn.md', 'slow-burn.md', 'steady-burn.md')
      .map((n) => ({ kind: 'copy' as const, n })),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }).map((t) => ({ kind: 'text' as const, t })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('link-outside', 'link-dev-zero', 'link-loop', 'folder', 'missing')
      .map((k) => ({ kind: k })),
  },
);

function layRepo(files: Array<{ kind: string; n?: string; t?: string }>, postmortemsDir: string): string {
  const root = join(dir, `repo-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(root, '.github'), { recursive: true });
  mkdirSync(join(root, 'runbooks'));
  const alerts = ['fast-burn', 'steady-burn', 'slow-burn'].map((name, i) => ({
    name,
    severity: ['sev1', 'sev2', 'sev3'][i],
    burn_rate: [14.4, 6, 3][i],
    long: ['1h', '6h', '1d'][i],
    short: ['5m', '30m', '2h'][i],
    action: i < 2 ? 'page' : 'ticket',
    runbook: `runbooks/${name}.md`,
  }));
  files.forEach((f, i) => {
    const path = join(root, 'runbooks', `${alerts[i % 3]!.name}.md`);
    if (f.kind === 'copy') writeFileSync(path, fixtureText(`examples/runbooks/${f.n}`));
    else if (f.kind === 'text') writeFileSync(path, f.t!);
    else if (f.kind === 'link-outside') symlinkSync(outside, path);
    else if (f.kind === 'link-dev-zero') symlinkSync('/dev/zero', path);
    else if (f.kind === 'link-loop') symlinkSync(path, path);
    else if (f.kind === 'folder') mkdirSync(path);
  });
  const policy = {
    ...loadedExample(),
    alerts,
    oncall: { ...loadedExample().oncall, postmortems: { dir: postmortemsDir } },
  };
  writeFileSync(join(root, '.github/error-budget.yml'), stringify(policy));
  return root;
}
const loadedExample = () =>
  parseYaml(fixtureText('examples/error-budget.yml')) as Record<string, Record<string, unknown>>;

const repoTarget = (command: 'runbooks' | 'readiness') =>
  fc.asyncProperty(
    fc.array(repoFile, { minLength: 1, maxLength: 3 }),
    fc.constantFrom('postmortems', '../../../../etc', '/etc', 'runbooks'),
    fc.constantFrom('repo', 'repo', 'repo', 'missing', 'file', '/dev/null'),
    timeFlag,
    async (files, pm, rootKind, at) => {
      const repo = layRepo(files, pm);
      const root =
        rootKind === 'repo'
          ? repo
          : rootKind === 'missing'
            ? join(repo, 'nope')
            : rootKind === 'file'
              ? join(repo, '.github/error-budget.yml')
              : rootKind;
      const args =
        command === 'runbooks'
          ? [
              'runbooks',
              'lint',
              '--root',
              root,
              '--policy',
              join(repo, '.github/error-budget.yml'),
              `--at=${at}`,
              '--json',
            ]
          : ['readiness', '--root', root, '--policy', '.github/error-budget.yml', `--at=${at}`, '--json'];
      const r = await cli(args);
      check(command, r, [0, 1, 2], /--root|--at|--policy|error-budget\.yml|repository|refused|root/);
      // Property: nothing outside the repository reaches the output.
      holds(!(r.stdout + r.stderr).includes(SECRET), 'a file outside the repository was printed', r);
      if (command === 'readiness' && r.code !== 2) {
        // Property: a score only for a root that exists, a whole number of gates out of five.
        holds(rootKind === 'repo', `a readiness score for a root that is not a folder: ${root}`, r);
        const j = JSON.parse(r.stdout) as { score: number };
        holds(Number.isInteger(j.score) && j.score >= 0 && j.score <= 5, `score ${j.score}`, r);
      }
    },
  );

export const SURFACE_TARGETS = {
  import: importTarget,
  oncall: oncallTarget,
  'audit-report': auditReportTarget,
  change: changeTarget,
  canary: canaryTarget,
  simulate: simulateTarget,
  handoff: handoffTarget,
  runbooks: repoTarget('runbooks'),
  readiness: repoTarget('readiness'),
} as const;
