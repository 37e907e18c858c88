import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PLEASE_REPORT } from '../../src/cli/main.ts';
import { tempDir } from '../support/tasks.ts';
import { BIN, HOSTILE, type ProcessRun, ROOT, runProcess, STACK } from './run.ts';

// The corpus for the surfaces added since the first hostile round (issue 25): import, on-call,
// handoff, --change, the fleet simulator, canary, readiness. Each input once reached the top-level
// handler ("unexpected failure … please report this"), exited 1 or 134, or answered wrong with
// exit 0. Each is a named fixture under test/fixtures/hostile/ (or, where the input is a flag or a
// path no file can hold, named here), run as a user runs it: the CLI in a child process under a
// heap cap and a kill timer. Each must end in exit 2 and one line saying what to fix.

const AT = '2026-11-20T09:00:00Z';
const fixture = (p: string) => join(HOSTILE, p);
const POLICY = join(ROOT, 'examples/error-budget.yml');
const TELEMETRY = join(ROOT, 'examples/telemetry/demo.jsonl.gz');
const bg = (args: string[], opts: Parameters<typeof runProcess>[1] = {}) =>
  runProcess([BIN, ...args], { heapMb: 256, killAfterMs: 60_000, ...opts });

function refused(r: ProcessRun, message: RegExp, lines = 2): void {
  expect(r.killed, 'the kill timer fired').toBe(false);
  expect(r.signal, 'killed by a signal (out of memory?)').toBeNull();
  const all = r.stdout + r.stderr;
  expect(all).not.toMatch(STACK);
  expect(all).not.toContain(PLEASE_REPORT);
  expect(r.code, all).toBe(2);
  expect(r.stderr).toMatch(message);
  // One line: what a person reads in a terminal or a CI log.
  expect(
    r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('warning:')).length,
    r.stderr,
  ).toBeLessThanOrEqual(lines);
}

describe('import: a spec that cannot be imported is refused, located', () => {
  it.each([
    ['sloth', 'alias-bomb.yaml', /alias-bomb\.yaml:4:\d+: not valid YAML: Excessive alias count/],
    ['pyrra', 'alias-bomb.yaml', /alias-bomb\.yaml:4:\d+: not valid YAML: Excessive alias count/],
    ['openslo', 'alias-bomb.yaml', /alias-bomb\.yaml:4:\d+: not valid YAML: Excessive alias count/],
    ['sloth', 'deep-nesting.yaml', /deep-nesting\.yaml:\d+:\d+: not valid YAML: /],
    [
      'pyrra',
      'window-too-long.yaml',
      /not imported: pyrra .*window-too-long\.yaml:\d+ coredns-response-errors: window: 1000d is too long: at most 366d/,
    ],
    [
      'pyrra',
      'window-too-short.yaml',
      /not imported: pyrra .*window-too-short\.yaml:\d+ coredns-response-errors: window: 1m is too short: at least 1h/,
    ],
  ])('import %s %s', async (tool, name, message) => {
    refused(await bg(['import', tool, fixture(`import/${name}`)]), message);
  });

  it('a --window shorter than the default pace_lookback (found by the fuzz suite): the SLO is not imported, with the reason', async () => {
    refused(
      await bg([
        'import',
        'sloth',
        join(ROOT, 'test/fixtures/import/sloth/getting-started.yml'),
        '--window',
        '1h',
      ]),
      /not imported: sloth .*getting-started\.yml:12 myservice\/requests-availability: states\.soft_pause\.pace_lookback: pace_lookback 1d is longer than the 1h window/,
      3,
    );
  });

  it('too many SLOs for one policy (3,000 Pyrra SLOs, generated): said, with how to split them', async () => {
    const dir = tempDir('bg-many-');
    const one = (i: number) =>
      `apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata: { name: slo-${i} }\nspec:\n  target: "99.9"\n  window: 2w\n  indicator:\n    ratio:\n      errors: { metric: 'x_total{n="${i}",code="5xx"}' }\n      total: { metric: 'x_total{n="${i}"}' }\n`;
    const file = join(dir, 'many.yaml');
    writeFileSync(file, Array.from({ length: 3000 }, (_, i) => one(i)).join('---\n'));
    refused(
      await bg(['import', 'pyrra', file]),
      /3000 SLOs make a policy of \d+ characters, more than the 1048576 a policy may have: import fewer specs at a time/,
    );
  });

  // A missing folder is made (`--out .github/error-budget.yml` in a new repository); a file in the
  // way of one is not.
  const underAFile = (dir: string) => {
    writeFileSync(join(dir, 'policy.yml'), 'a file\n');
    return join(dir, 'policy.yml/policy.yml');
  };
  it.each([
    ['/proc/budget-gate-policy.yml', /cannot write --out \/proc\/budget-gate-policy\.yml: no such file/],
    ['/dev/full', /cannot write --out \/dev\/full: no space left on the device/],
    ['(a folder)', /cannot write --out .*: a folder, not a file/],
    ['(under a file)', /cannot write --out .*policy\.yml\/policy\.yml: .*policy\.yml is not a folder/],
  ])('--out %s that cannot be written', async (out, message) => {
    const dir = tempDir('bg-out-');
    const path = out === '(a folder)' ? dir : out === '(under a file)' ? underAFile(dir) : out;
    refused(
      await bg([
        'import',
        'pyrra',
        join(ROOT, 'test/fixtures/import/pyrra/slo-coredns-response-errors.yaml'),
        '--out',
        path,
      ]),
      message,
    );
  });
});

describe('on-call: bounds checked at lint and at use; a ledger that cannot be used is said', () => {
  it('an escalation wait lint accepted crashed `oncall now`: now refused by both, located', async () => {
    const file = fixture('oncall/escalation-wait-huge.yml');
    const message =
      /escalation-wait-huge\.yml:13:\d+ oncall\.escalation\[1\]\.wait: 99999999d is too long: at most 7d/;
    refused(await bg(['lint', file]), message);
    refused(await bg(['oncall', 'now', '--policy', file, '--at', AT]), message);
  });

  it('a drill cadence past any date is refused', async () => {
    refused(
      await bg(['lint', fixture('oncall/drill-every-huge.yml')]),
      /oncall\.runbooks\.drill_every: 99999999999d is too long: at most 366d/,
    );
  });

  const decision = async () => {
    const dir = tempDir('bg-page-');
    const r = await bg(['evaluate', '--policy', POLICY, '--telemetry', TELEMETRY, '--at', AT, '--json']);
    const file = join(dir, 'decision.json');
    writeFileSync(file, r.stdout);
    return { dir, file };
  };
  const page = (decisionFile: string, ledger: string) =>
    bg([
      'oncall',
      'page',
      '--policy',
      POLICY,
      '--decision',
      decisionFile,
      '--repo',
      'o/r',
      '--deployment',
      '1',
      '--ledger',
      ledger,
      '--at',
      AT,
    ]);

  it.each([
    [
      'ledger-not-json.json',
      /notify ledger .*ledger-not-json\.json: not JSON .*: restore it, or move it aside/,
    ],
    [
      'ledger-time-overflow.json',
      /notify ledger .*ledger-time-overflow\.json: not a ledger \(\[0\]\.raised_at: .*\): restore it, or move it aside/,
    ],
  ])('a corrupt ledger: %s', async (name, message) => {
    const { dir, file } = await decision();
    // A copy: the run takes a lock next to the ledger.
    const ledger = join(dir, name);
    writeFileSync(ledger, await import('node:fs').then((fs) => fs.readFileSync(fixture(`oncall/${name}`))));
    refused(await page(file, ledger), message);
  });

  it('a ledger that is a folder, a device or a path under /proc: said, and /dev/null is never replaced', async () => {
    const { dir, file } = await decision();
    mkdirSync(join(dir, 'ledger-dir'));
    refused(
      await page(file, join(dir, 'ledger-dir')),
      /notify ledger .*ledger-dir: not a regular file \(a folder\)/,
    );
    refused(
      await page(file, '/dev/null'),
      /notify ledger \/dev\/null: not a regular file \(a device, pipe or socket\)/,
    );
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    refused(
      await page(file, '/proc/budget-gate-ledger.json'),
      /notify ledger \/proc\/budget-gate-ledger\.json: cannot/,
    );
  });
});

describe('handoff: a --store that cannot be read, and --since, said as input', () => {
  const handoff = (...more: string[]) =>
    bg(['handoff', '--policy', POLICY, '--since', '2026-11-19T09:00:00Z', '--at', AT, ...more]);

  it.each([
    [
      'not-a-database.sqlite',
      /--store sqlite:.*not-a-database\.sqlite: .* is not an SQLite database, not the bot's store/,
    ],
    ['empty.sqlite', /--store sqlite:.*empty\.sqlite: .* is empty, not the bot's store/],
    [
      'other-app.sqlite',
      /--store sqlite:.*other-app\.sqlite: .* is an SQLite database, but not the bot's store/,
    ],
  ])('--store sqlite:%s', async (name, message) => {
    const path = fixture(`store/${name}`);
    const before = statSync(path).size;
    refused(await handoff('--store', `sqlite:${path}`), message);
    // Read only: the file is as it was (opening it as a store would have migrated it).
    expect(statSync(path).size).toBe(before);
  });

  it('--store naming a folder, a device', async () => {
    refused(await handoff('--store', `sqlite:${tempDir('bg-store-')}`), /is not a regular file/);
    refused(
      await handoff('--store', 'sqlite:/dev/zero'),
      /--store sqlite:\/dev\/zero: \/dev\/zero is not a regular file/,
    );
  });

  it('--store postgres:// with nothing listening: the host and what failed, never the password', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await handoff('--store', `postgres://bg:s3cret-pw@127.0.0.1:${port}/budget`);
    refused(
      r,
      new RegExp(
        `--store: cannot open PostgreSQL at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*: check the host, the port`,
      ),
    );
    expect(r.stderr + r.stdout).not.toContain('s3cret-pw');
  });

  it('--since that is not a time names --since (it named --at)', async () => {
    refused(
      await bg(['handoff', '--policy', POLICY, '--since', 'yesterday']),
      /budget-gate handoff: --since yesterday: expected an ISO-8601 time/,
    );
  });
});

describe('--change, canary, telemetry, readiness', () => {
  it.each([
    [
      'applied-after-year-9999.json',
      /--change .*applied-after-year-9999\.json: labels\[0\]\.applied_at: expected a time before year 10000/,
    ],
    [
      'last-push-after-year-9999.json',
      /--change .*last-push-after-year-9999\.json: last_push_at: expected a time before year 10000/,
    ],
  ])('--change %s', async (name, message) => {
    refused(
      await bg([
        'evaluate',
        '--policy',
        POLICY,
        '--telemetry',
        TELEMETRY,
        '--change',
        fixture(`change/${name}`),
        '--at',
        AT,
      ]),
      message,
    );
  });

  it('canary with the deploy after --at: refused (it said "KEEP (watching)", exit 0)', async () => {
    refused(
      await bg([
        'canary',
        '--policy',
        POLICY,
        '--telemetry',
        TELEMETRY,
        '--deployed-at',
        '2026-11-21T09:00:00Z',
        '--at',
        AT,
      ]),
      /--deployed-at 2026-11-21T09:00:00Z is after --at 2026-11-20T09:00:00Z: the deployment was not live yet/,
    );
  });

  it('latency_ms: 1e400 is refused, located (it read as Infinity)', async () => {
    const r = await bg([
      'evaluate',
      '--policy',
      POLICY,
      '--telemetry',
      fixture('telemetry/latency-overflow.jsonl'),
      '--at',
      AT,
    ]);
    refused(
      r,
      /latency-overflow\.jsonl:1: `latency_ms`: a number too large to be read \(it reads as Infinity\)/,
    );
  });

  it('readiness --root that does not exist: no score', async () => {
    const r = await bg(['readiness', '--root', '/nonexistent-budget-gate-root']);
    refused(r, /the repository root \/nonexistent-budget-gate-root is not a folder that exists/);
    expect(r.stdout).toBe('');
  });
});

describe('simulate --fleet: bounded at parse, its output said when it cannot be written', () => {
  it.each([
    [['--out', '/proc'], /cannot write --out \/proc\/telemetry\.jsonl: no such file/],
    [
      ['--out', '/proc/budget-gate-fleet'],
      /cannot write --out \/proc\/budget-gate-fleet: cannot make the folder/,
    ],
    [['--out', '/dev/null'], /cannot write --out \/dev\/null: \/dev\/null is not a folder/],
    [['--every', '1ms'], /--every 1ms: expected a duration from 5m to 30d/],
    [['--outages-per-day', '1e9'], /--outages-per-day 1e9: expected a rate from 0 to 24/],
    [['--factor', '1e308'], /--factor 1e308: expected a positive factor up to 100/],
    [['--start', '275760-09-13'], /--start 275760-09-13: expected an ISO-8601 time/],
    [['--seed', '1e300'], /--seed 1e300: expected a whole number from 0 to 2,147,483,647/],
  ])('%j', async (flags, message) => {
    const out = tempDir('bg-fleet-');
    // A small heap: before the bounds, --every 1ms and --outages-per-day 1e9 ran V8 out of memory.
    refused(await bg(['simulate', '--fleet', '--out', out, ...flags], { heapMb: 96 }), message);
  });
});
