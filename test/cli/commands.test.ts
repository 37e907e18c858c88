import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainRecord, serializeRecord } from '../../src/policy/overrides/audit-chain.ts';
import { DEMO_POLICY } from '../../src/scenarios/demo.ts';
import { cli } from '../support/cli.ts';
import { steadyTasks, tempDir, writeTasks } from '../support/tasks.ts';

describe('budget-gate lint', () => {
  it('accepts the example policy', async () => {
    const r = await cli(['lint', DEMO_POLICY]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'ok — 4 SLOs (tasks-success-paid, tasks-success-free, task-latency-paid, task-cost)',
    );
  });

  it.each([
    ['target: 1.0', 'a target of 100% leaves no error budget'],
    ['target: 0', 'target must be above 0%'],
    ['window: fortnight', 'expected a rolling window such as 7d'],
  ])('refuses %s with its location', async (line, message) => {
    const dir = tempDir();
    const f = join(dir, 'p.yml');
    const [key] = line.split(':');
    const body = { target: 'target: 0.95', window: 'window: 30d' } as Record<string, string>;
    body[key!] = line;
    writeFileSync(
      f,
      `version: 1\nslos:\n  - name: x\n    sli: { kind: success }\n    ${body.target}\n    ${body.window}\n    scope: all\n`,
    );
    const r = await cli(['lint', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}:${key === 'target' ? 5 : 6}:`);
    expect(r.stderr).toContain(`slos[0].${key}`);
    expect(r.stderr).toContain(message);
  });

  it('warns about a risk glob shadowed by an earlier one, and still passes', async () => {
    const dir = tempDir();
    const f = join(dir, 'p.yml');
    writeFileSync(
      f,
      "version: 1\nslos:\n  - { name: x, sli: { kind: success }, target: 0.95, window: 30d, scope: all }\nrisk:\n  rules:\n    - { paths: ['prompts/**'], class: high }\n    - { paths: ['prompts/legal/**'], class: low }\n",
    );
    const r = await cli(['lint', f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/risk\.rules\[1\].*never match.*\(warning\)/);
  });
});

describe('budget-gate simulate', () => {
  it('healthy stays SHIP all month', async () => {
    const r = await cli(['simulate', '--scenario', 'healthy', '--json']);
    const sim = JSON.parse(r.stdout);
    expect(r.code).toBe(0);
    expect(sim.days).toHaveLength(30);
    expect(sim.verdict).toMatchObject({
      final_state: 'ship',
      hard_pause_from_day: null,
      budget_exhausted_on_day: null,
    });
  });

  it('on-fire hard-pauses after the incident and says the day the budget ran out', async () => {
    const sim = JSON.parse((await cli(['simulate', '--scenario', 'on-fire', '--json'])).stdout);
    expect(sim.verdict.final_state).toBe('hard-pause');
    // The incident starts on day 22 (70% of the month); the budget cannot outlast it by a week.
    expect(sim.verdict.budget_exhausted_on_day).toBeGreaterThanOrEqual(22);
    expect(sim.verdict.budget_exhausted_on_day).toBeLessThanOrEqual(27);
    const consumed = sim.days.map((d: { consumed: number }) => d.consumed);
    expect(consumed.at(-1)).toBeGreaterThan(1);
  });

  it('rising soft-pauses before it hard-pauses, and a looser target delays both', async () => {
    const tight = JSON.parse((await cli(['simulate', '--scenario', 'rising', '--json'])).stdout).verdict;
    expect(tight.soft_pause_from_day).not.toBeNull();
    expect(tight.soft_pause_from_day).toBeLessThan(tight.hard_pause_from_day ?? 31);
    const text = (await cli(['simulate', '--scenario', 'rising'])).stdout;
    expect(text).toContain('Verdict:');
    expect(text).toContain('┄ soft-pause line');
  });

  it('refuses an unknown scenario or a target of 100%', async () => {
    expect(await cli(['simulate', '--scenario', 'meh'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('healthy, rising, on-fire'),
    });
    expect((await cli(['simulate', '--target', '1'])).code).toBe(2);
  });
});

describe('budget-gate canary', () => {
  const H = 3_600_000;
  const deployedAt = Date.parse('2026-11-20T08:00:00Z');
  const policyFile = (dir: string) => {
    const f = join(dir, 'p.yml');
    writeFileSync(
      f,
      'version: 1\nslos:\n  - { name: ok, sli: { kind: success }, target: 0.999, window: 30d, scope: all }\n',
    );
    return f;
  };

  it('flags a deployment that burns 25% of the budget in 20 minutes (exit 1) and keeps a calm one (exit 0)', async () => {
    const dir = tempDir();
    // 30 days at 4 tasks/min, 0.05% failing (a budget of ~173 bad tasks); after the deploy, 80%
    // failing for 20 minutes: 64 bad of 80 (past min_events 50), 37% of the budget. The calm one stays at 0.05%.
    const start = deployedAt - 30 * 24 * H;
    const hot = writeTasks(
      dir,
      'hot.jsonl',
      steadyTasks(start, deployedAt + 20 * 60_000, 4, (t) => (t > deployedAt ? 0.8 : 0.0005)),
    );
    const calm = writeTasks(
      dir,
      'calm.jsonl',
      steadyTasks(start, deployedAt + 20 * 60_000, 4, () => 0.0005),
    );
    const args = [
      'canary',
      '--policy',
      policyFile(dir),
      '--deployed-at',
      '2026-11-20T08:00:00Z',
      '--at',
      '2026-11-20T08:20:00Z',
    ];
    const bad = await cli([...args, '--telemetry', hot]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('REVERT');
    const ok = await cli([...args, '--telemetry', calm, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ breach: false, expired: false });
  });
});

describe('budget-gate audit verify', () => {
  const entry = (i: number) => ({
    kind: 'override-applied' as const,
    repo: 'acme/agents',
    pull_request: i,
    author: 'dev',
    source: 'action' as const,
    sha: 'a'.repeat(40),
    label: 'override:slo-wrong',
    reason: 'slo-wrong',
    actor: 'sre-lead',
    at: `2026-11-0${i}T00:00:00.000Z`,
    state: 'soft-pause' as const,
    message: `exception ${i}`,
  });

  it('accepts an intact chain and finds the first edited record', async () => {
    const dir = tempDir();
    let prev = null;
    const lines: string[] = [];
    for (let i = 1; i <= 3; i++) {
      prev = chainRecord(prev, entry(i));
      lines.push(serializeRecord(prev));
    }
    const ok = join(dir, 'ok.jsonl');
    writeFileSync(ok, lines.join(''));
    expect(await cli(['audit', 'verify', ok])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('3 records, chain intact'),
    });

    const edited = join(dir, 'edited.jsonl');
    writeFileSync(edited, lines.join('').replace('exception 2', 'exception two'));
    const r = await cli(['audit', 'verify', edited]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${edited}:2:`);
  });

  function writeLog(name: string, entries: ReturnType<typeof entry>[]) {
    let prev = null;
    const records = [];
    for (const e of entries) {
      prev = chainRecord(prev, e);
      records.push(prev);
    }
    const file = join(tempDir(), name);
    writeFileSync(file, records.map(serializeRecord).join(''));
    return { file, records };
  }

  it('catches an added key and a duplicated key on the line they are on', async () => {
    const { file } = writeLog('log.jsonl', [entry(1), entry(2)]);
    const text = readFileSync(file, 'utf8').split('\n');
    writeFileSync(
      file,
      [text[0], text[1]!.replace('{"actor"', '{"approver":"mallory","actor"'), ''].join('\n'),
    );
    expect(await cli(['audit', 'verify', file])).toMatchObject({
      code: 1,
      stdout: `${file}:2: an added key \`approver\`: not part of an audit record\n`,
    });
    writeFileSync(
      file,
      [text[0]!.replace('{"actor":"sre-lead"', '{"actor":"mallory","actor":"sre-lead"'), text[1], ''].join(
        '\n',
      ),
    );
    expect(await cli(['audit', 'verify', file])).toMatchObject({
      code: 1,
      stdout: expect.stringContaining(`${file}:1: the key \`actor\` appears twice`),
    });
  });

  it('--head: the anchored head passes; a removed last record and a recomputed chain fail', async () => {
    const { file, records } = writeLog('log.jsonl', [entry(1), entry(2), entry(3)]);
    const head = records[2]!.hash;
    expect(await cli(['audit', 'verify', file, '--head', head])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('3 records, chain intact, ends at the expected head'),
    });
    const removed = writeLog('removed.jsonl', [entry(1), entry(2)]).file;
    // Without the anchor the shortened log is a valid chain; with it, it is not the log that was anchored.
    expect((await cli(['audit', 'verify', removed])).code).toBe(0);
    expect(await cli(['audit', 'verify', removed, '--head', head])).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(
        /the chain ends at record #2 .*no record has the expected head .*records were removed/,
      ),
    });
    const recomputed = writeLog('recomputed.jsonl', [
      entry(1),
      { ...entry(2), actor: 'mallory' },
      entry(3),
    ]).file;
    expect((await cli(['audit', 'verify', recomputed])).code).toBe(0);
    expect((await cli(['audit', 'verify', recomputed, '--head', head])).code).toBe(1);
  });

  it('--head must be a SHA-256', async () => {
    const { file } = writeLog('log.jsonl', [entry(1)]);
    expect(await cli(['audit', 'verify', file, '--head', 'abc'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--head abc: expected a SHA-256 hash (64 hex digits)'),
    });
  });
});

describe('the sample audit log in examples/', () => {
  const SAMPLE = new URL('../../examples/audit/audit.jsonl', import.meta.url).pathname;

  it('verifies, and reports for the retro', async () => {
    const v = await cli(['audit', 'verify', SAMPLE]);
    expect(v).toMatchObject({ code: 0, stderr: '' });
    expect(v.stdout).toContain('ok — 4 records, chain intact');
    const r = await cli(['audit', 'report', SAMPLE]);
    expect(r.code).toBe(0);
    for (const part of ['## Exceptions (2)', '## Refused attempts (1)', '## Reverts that passed a pause (1)'])
      expect(r.stdout).toContain(part);
  });
});
