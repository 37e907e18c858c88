import { describe, expect, it } from 'vitest';
import { loadPolicy, PolicyError, type PolicyProblem } from '../../../src/policy/spec/load.ts';

function problems(text: string): PolicyProblem[] {
  try {
    loadPolicy(text, '.github/error-budget.yml');
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    return (e as PolicyError).problems;
  }
  throw new Error('expected the policy to be refused');
}

const slo = (body: string) => `version: 1\nslos:\n  - name: s\n${body}`;
const FULL = '    sli: { kind: success }\n    target: 0.95\n    window: 30d\n    scope: all\n';

describe('loadPolicy', () => {
  it('accepts a minimal policy and fills every default', () => {
    const { policy, warnings, advice } = loadPolicy(slo(FULL), 'p.yml');
    // The seed's 20% auto-revert line cannot be reached at a 95% target over 30 days; lint says so.
    expect(warnings.map((w) => w.path)).toEqual(['slos[0].target']);
    expect(warnings[0]!.message).toContain('auto-revert can never fire for');
    // No high-risk rule: a SOFT-PAUSE would hold nothing. Lint says that too; decisions do not.
    expect(advice.map((w) => w.path)).toEqual(['risk']);
    expect(advice[0]!.message).toContain('SOFT-PAUSE can hold nothing');
    expect(policy.slos[0]!.target).toBe(0.95);
    expect(policy.states.soft_pause).toMatchObject({ consumed: 0.5, pace_factor: 1 });
    // Parsed once, defaults included: milliseconds next to the text the messages quote.
    expect(policy.states.soft_pause.pace_lookback).toMatchObject({ text: '1d', ms: 86_400_000 });
    expect(policy.overrides.expires_after).toMatchObject({ text: '24h', ms: 86_400_000 });
    expect(policy.slos[0]!.window).toMatchObject({ kind: 'rolling', spec: '30d', ms: 30 * 86_400_000 });
    expect(`${policy.auto_revert.within}`).toBe('60m');
    expect(policy.states.on_telemetry_error).toBe('block');
    expect(policy.auto_revert.consumed).toBe(0.2);
    expect(policy.auto_revert.within.ms).toBe(3_600_000);
    expect(policy.alerts.map((a) => [a.burn_rate, a.long.text, a.short.text, a.severity])).toEqual([
      [14.4, '1h', '5m', 'sev1'],
      [6, '6h', '30m', 'sev2'],
      [3, '1d', '2h', 'sev3'],
      [1, '3d', '6h', 'sev3'],
    ]);
    expect(policy.overrides.reasons).toEqual(['slo-wrong', 'catastrophic-event', 'regulatory']);
  });

  it('reads "99.9%" as 0.999', () => {
    expect(loadPolicy(slo(FULL.replace('0.95', '"99.9%"')), 'p.yml').policy.slos[0]!.target).toBeCloseTo(
      0.999,
      12,
    );
  });

  it('names file, line, column and key for a typo, with a suggestion', () => {
    const [p] = problems(slo(`${FULL}    taget: 0.9\n`));
    expect(p).toMatchObject({ file: '.github/error-budget.yml', line: 8, col: 5, path: 'slos[0].taget' });
    expect(p!.message).toContain('did you mean `target`');
  });

  it('refuses a 100% target with the reason', () => {
    const [p] = problems(slo(FULL.replace('0.95', '1')));
    expect(p).toMatchObject({ line: 5, path: 'slos[0].target' });
    expect(p!.message).toMatch(/100% leaves no error budget/);
  });

  it.each([
    ['sli', /missing required key `sli`/],
    ['target', /missing required key `target`/],
    ['window', /missing required key `window`/],
    ['scope', /missing required key `scope`/],
  ])('refuses an SLO missing its %s', (key, message) => {
    const body = FULL.split('\n')
      .filter((l) => !l.trim().startsWith(`${key}:`))
      .join('\n');
    const [p] = problems(slo(body));
    expect(p!.path).toBe(`slos[0].${key}`);
    expect(p!.message).toMatch(message);
    expect(p!.line).toBe(3);
  });

  it('refuses a window that does not parse', () => {
    const [p] = problems(slo(FULL.replace('30d', 'fortnight')));
    expect(p).toMatchObject({ line: 6, col: 13, path: 'slos[0].window' });
    expect(p!.message).toMatch(/rolling window such as 7d/);
  });

  it('refuses a target at or below 0 and an unknown SLI kind', () => {
    expect(problems(slo(FULL.replace('0.95', '0')))[0]!.message).toMatch(/above 0%/);
    expect(problems(slo(FULL.replace('success', 'happiness')))[0]!.path).toBe('slos[0].sli.kind');
  });

  it('locates YAML syntax errors', () => {
    const [p] = problems('version: 1\nslos: [\n  - name: x\n');
    expect(p!.message).toMatch(/^YAML: /);
    expect(p!.line).toBeGreaterThanOrEqual(2);
  });

  it('refuses duplicate SLO names', () => {
    const text = `${slo(FULL)}  - name: s\n${FULL}`;
    expect(problems(text)[0]).toMatchObject({ path: 'slos[1].name', line: 8 });
  });

  it('formats every problem as file:line:col key: message', () => {
    try {
      loadPolicy(slo(`${FULL}    taget: 0.9\n`), 'x.yml');
    } catch (e) {
      expect((e as Error).message).toBe(
        'x.yml:8:5 slos[0].taget: unknown key `taget`: did you mean `target`?',
      );
    }
  });

  it('warns about a risk glob shadowed by an earlier rule', () => {
    const text = `${slo(FULL)}risk:\n  rules:\n    - paths: ["prompts/**"]\n      class: high\n    - paths: ["prompts/*.md", "docs/**"]\n      class: low\n`;
    const warnings = loadPolicy(text, 'p.yml').warnings.filter((w) => w.path.startsWith('risk'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ path: 'risk.rules[1].paths[0]', line: 12 });
    expect(warnings[0]!.message).toContain('can never match');
  });

  it('warns when auto_revert.consumed is out of reach for an SLO, and not when it can fire', () => {
    const text = (target: string, consumed: string) =>
      `version: 1\nslos:\n  - { name: a, sli: { kind: success }, target: ${target}, window: 30d, scope: all }\nauto_revert:\n  consumed: ${consumed}\n`;
    const revert = (t: string) => loadPolicy(t, 'p.yml').warnings;
    const out = revert(text('0.95', '0.2'));
    expect(out).toEqual([
      expect.objectContaining({
        path: 'auto_revert.consumed',
        line: 5,
        message: expect.stringContaining('at most 2.8% of its 30d budget'),
      }),
    ]);
    // 99.9% over 30d: an hour at a total outage is 1/720 × 1000 = 139% of the budget.
    expect(revert(text('0.999', '0.2'))).toEqual([]);
    expect(revert(text('0.95', '0.01'))).toEqual([]);
  });

  it('warns when SOFT-PAUSE can hold nothing: no high rule and a low default', () => {
    const soft = (risk: string) => loadPolicy(`${slo(FULL)}${risk}`, 'p.yml').advice;
    expect(soft('')).toEqual([
      expect.objectContaining({ line: 1, message: expect.stringContaining('SOFT-PAUSE can hold nothing') }),
    ]);
    expect(soft('risk:\n  rules:\n    - { paths: ["docs/**"], class: low }\n')).toEqual([
      expect.objectContaining({ line: 9 }),
    ]);
    expect(soft('risk:\n  rules:\n    - { paths: ["prompts/**"], class: high }\n')).toEqual([]);
    expect(soft('risk:\n  default: high\n')).toEqual([]);
  });
});
