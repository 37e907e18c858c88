import { describe, expect, it } from 'vitest';
import { decisionSchema } from '../../src/policy/gate/decision-schema.ts';
import { DEMO_END, DEMO_POLICY, DEMO_TELEMETRY } from '../../src/scenarios/demo.ts';
import { cli } from '../support/cli.ts';
import { writeTemp } from '../support/tasks.ts';

const base = ['evaluate', '--policy', DEMO_POLICY, '--telemetry', DEMO_TELEMETRY, '--at', DEMO_END];

describe('budget-gate evaluate on the bundled example', () => {
  it('blocks a prompt rewrite under SOFT-PAUSE, exit 1, and explains it to a person', async () => {
    const r = await cli([...base, '--changed-files', '-'], {
      stdin: 'prompts/refund.md\nsrc/agent/tools.ts\n',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'SOFT-PAUSE — prompts/refund.md is high risk — tasks-success-paid 62% consumed at 2.1x pace',
    );
    expect(r.stdout).toContain('What you can do');
    expect(r.stdout).toMatch(/split the change: the 1 low-risk file can ship now/);
    expect(r.stdout).toMatch(/ask an approver \(@sre-lead, or @acme\/sre\) to apply `override:slo-wrong`/);
    expect(r.stdout).toMatch(/runs out 2026-11-25/);
    expect(r.stderr).toBe('');
  });

  it('lets a low-risk change through the same SOFT-PAUSE, exit 0', async () => {
    const files = writeTemp('files.txt', 'src/ui/banner.tsx\n');
    const r = await cli([...base, '--changed-files', files, '--json']);
    expect(r.code).toBe(0);
    const d = decisionSchema.parse(JSON.parse(r.stdout));
    expect(d).toMatchObject({ state: 'soft-pause', allowed: true, risk: 'low' });
    expect(d.reasons.map((x) => x.code)).toEqual(['soft-pause', 'low-risk']);
    const paid = d.slos.find((s) => s.name === 'tasks-success-paid')!;
    expect(paid).toMatchObject({ events: 18_028, bad: 556, window: '30d', target: 0.95 });
    expect(paid.consumed).toBeCloseTo(556 / (0.05 * 18_028), 10);
    expect(paid.series).toHaveLength(24);
  });

  it('honours an approver’s override and refuses the author’s own', async () => {
    // sre-lead applies the override label to a change of a high-risk path that `author` wrote.
    const overrideBySreLead = (author: string) =>
      cli(
        [
          ...base,
          '--changed-files',
          '-',
          '--labels',
          'override:catastrophic-event',
          '--applied-by',
          'sre-lead',
          '--author',
          author,
          '--json',
        ],
        { stdin: 'prompts/refund.md\n' },
      );
    const approved = await overrideBySreLead('dev');
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout).override).toMatchObject({
      reason: 'catastrophic-event',
      applied_by: 'sre-lead',
    });

    const own = await overrideBySreLead('sre-lead');
    expect(own.code).toBe(1);
    expect(JSON.parse(own.stdout).override_refusals[0]).toMatchObject({ code: 'self-approval' });
  });

  it('always lets a verified revert through a pause', async () => {
    const r = await cli([...base, '--changed-files', '-', '--revert-of', 'a'.repeat(40), '--json'], {
      stdin: 'prompts/refund.md\n',
    });
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.reasons.at(-1)).toMatchObject({ code: 'revert' });
    expect(d.revert_evidence).toEqual({ kind: 'inverse-diff', reverts: 'a'.repeat(40), files: 1 });
  });

  it('judges a claimed revert without evidence as the change it is, and says why', async () => {
    for (const claim of [
      ['--title', 'Revert-proof prompt rewrite'],
      ['--head-ref', 'revert-1-anything'],
      ['--commit-message', 'Revert "x"\n\nThis reverts commit abcdef1.'],
    ]) {
      const r = await cli([...base, '--changed-files', '-', ...claim, '--json'], {
        stdin: 'prompts/refund.md\n',
      });
      expect(r.code).toBe(1);
      const d = JSON.parse(r.stdout);
      expect(d).toMatchObject({ allowed: false, revert: false, revert_evidence: null });
      expect(d.reasons.find((x: { code: string }) => x.code === 'revert-unverified').message).toMatch(
        /calls itself a revert .* GitHub does not vouch for it/,
      );
    }
  });
});

describe('budget-gate evaluate on bad input: exit 2, the reason on stderr', () => {
  it('a malformed policy names file, line and key', async () => {
    const policy = writeTemp(
      'p.yml',
      'version: 1\nslos:\n  - name: x\n    sli: { kind: success }\n    taget: 0.95\n    window: 30d\n    scope: all\n',
    );
    const r = await cli(['evaluate', '--policy', policy, '--telemetry', DEMO_TELEMETRY]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${policy}:5:5 slos[0].taget`);
    expect(r.stderr).toContain('did you mean `target`');
  });

  it('a malformed telemetry line names its line number', async () => {
    const tel = writeTemp(
      't.jsonl',
      '{"time":"2026-11-20T08:00:00Z","ok":true}\n{"time":"2026-11-20T08:00:01Z","ok":"yes"}\n',
    );
    const r = await cli(['evaluate', '--policy', DEMO_POLICY, '--telemetry', tel, '--at', DEMO_END]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${tel}:2: \`ok\``);
    // The decision still says what the policy does about it: on_telemetry_error: block.
    expect(r.stdout).toContain('HARD-PAUSE — telemetry unavailable');
  });

  it('--skip-bad-lines goes on and reports the count', async () => {
    const tel = writeTemp('t.jsonl', '{"time":"2026-11-20T08:00:00Z","ok":true}\ngarbage\n');
    const r = await cli([
      'evaluate',
      '--policy',
      DEMO_POLICY,
      '--telemetry',
      tel,
      '--at',
      DEMO_END,
      '--skip-bad-lines',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).warnings).toEqual([expect.stringContaining('skipped 1 malformed line')]);
  });

  it('unreadable telemetry fails closed: decision blocked, exit 2', async () => {
    const r = await cli([
      'evaluate',
      '--policy',
      DEMO_POLICY,
      '--telemetry',
      '/nonexistent/t.jsonl',
      '--json',
    ]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({
      state: 'hard-pause',
      allowed: false,
      telemetry: { error: expect.stringContaining('no such file') },
    });
    expect(r.stderr).toContain('cannot read telemetry /nonexistent/t.jsonl: no such file');
  });

  it('unknown flags, a bad --at and no telemetry are usage errors', async () => {
    expect((await cli(['evaluate', '--polcy', 'x'])).code).toBe(2);
    const at = await cli([
      'evaluate',
      '--policy',
      DEMO_POLICY,
      '--telemetry',
      DEMO_TELEMETRY,
      '--at',
      'noon',
    ]);
    expect(at).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--at noon: expected an ISO-8601 time'),
    });
    const none = await cli(['evaluate', '--policy', DEMO_POLICY]);
    expect(none).toMatchObject({ code: 2, stderr: expect.stringContaining('no telemetry') });
  });
});
