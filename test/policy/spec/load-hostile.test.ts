import fc from 'fast-check';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import {
  classifyRisk,
  globProblem,
  MAX_PATH_LENGTH,
  MAX_RISK_PATTERNS,
  MAX_SHADOW_CHECKS,
  shadowedRiskRules,
} from '../../../src/policy/gate/risk.ts';
import {
  loadPolicy,
  MAX_POLICY_BYTES,
  PolicyError,
  type PolicyProblem,
} from '../../../src/policy/spec/load.ts';
import { DURATION_BOUNDS, durationProblem, parseDuration } from '../../../src/policy/time/duration.ts';

// Policies written to hurt: each is refused with the key path and the reason, before anything
// downstream can crash, hang or decide on nonsense.

function problems(text: string): PolicyProblem[] {
  try {
    loadPolicy(text, 'p.yml');
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    return (e as PolicyError).problems;
  }
  throw new Error('expected the policy to be refused');
}

const BASE =
  'version: 1\nslos:\n  - { name: s, sli: { kind: success }, target: 0.95, window: 30d, scope: all }\n';

describe('durations are bounded per kind', () => {
  it.each([
    ['slos[0].window', BASE.replace('30d', '1ms'), '1ms is too short: at least 1h'],
    ['slos[0].window', BASE.replace('30d', '99999999999999999999d'), 'is too long: at most 366d'],
    [
      'overrides.expires_after',
      `${BASE}overrides: { expires_after: 400d }\n`,
      '400d is too long: at most 366d',
    ],
    ['auto_revert.within', `${BASE}auto_revert: { within: 9999d }\n`, '9999d is too long: at most 30d'],
    ['auto_revert.interval', `${BASE}auto_revert: { interval: 1ms }\n`, '1ms is too short: at least 10s'],
    [
      'states.soft_pause.pace_lookback',
      `${BASE}states: { soft_pause: { pace_lookback: 1s } }\n`,
      'at least 1m',
    ],
    [
      'alerts[0].long',
      `${BASE}alerts: [{ name: a, severity: sev1, burn_rate: 2, long: 999d, short: 5m }]\n`,
      'at most 366d',
    ],
  ])('%s', (path, text, message) => {
    expect(problems(text)).toEqual([
      expect.objectContaining({ path, message: expect.stringContaining(message) }),
    ]);
  });

  it('a duration too large for a number is no duration at all', () => {
    expect(parseDuration(`${'9'.repeat(400)}d`)).toBeNull();
  });

  it('every bound is a duration formatDuration can print, and the bounds nest (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(DURATION_BOUNDS)),
        fc.double({ min: 0, max: 1e30, noNaN: true }),
        (b, ms) => {
          const text = `${Math.floor(ms)}ms`;
          const problem = durationProblem(text, b);
          const n = Math.floor(ms);
          expect(problem === null).toBe(n >= b.min && n <= b.max);
        },
      ),
    );
  });
});

describe('settings that contradict each other', () => {
  it.each([
    [
      'states.soft_pause.consumed',
      `${BASE}states: { soft_pause: { consumed: 0.9 }, hard_pause: { consumed: 0.6 } }\n`,
      'soft-pause could never happen',
    ],
    [
      'states.soft_pause.pace_lookback',
      `${BASE.replace('30d', '7d')}states: { soft_pause: { pace_lookback: 14d } }\n`,
      'longer than the 7d window of slos[0] (s)',
    ],
    [
      'auto_revert.interval',
      `${BASE}auto_revert: { within: 10m, interval: 1h }\n`,
      'the bot would never look before the watch ends',
    ],
    [
      'alerts[0].short',
      `${BASE}alerts: [{ name: a, severity: sev1, burn_rate: 2, long: 5m, short: 1h }]\n`,
      'must be shorter',
    ],
  ])('%s', (path, text, message) => {
    expect(problems(text)).toEqual([
      expect.objectContaining({ path, message: expect.stringContaining(message) }),
    ]);
  });

  it('a calendar window is not compared with the lookback', () => {
    expect(() => loadPolicy(BASE.replace('30d', 'week'), 'p.yml')).not.toThrow();
  });
});

describe('YAML written to exhaust', () => {
  it('an alias bomb is refused where its first alias is', () => {
    let s = 'version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 10; i++)
      s += `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    expect(problems(s)).toEqual([
      expect.objectContaining({
        line: 3,
        path: '',
        message: expect.stringContaining('Excessive alias count'),
      }),
    ]);
  });

  it('a few aliases for real reuse still load', () => {
    const text = `version: 1\nslos:\n  - { name: a, sli: &sli { kind: success }, target: 0.95, window: 30d, scope: all }\n  - { name: b, sli: *sli, target: 0.95, window: 30d, scope: all }\n`;
    expect(loadPolicy(text, 'p.yml').policy.slos.map((s) => s.name)).toEqual(['a', 'b']);
  });

  it('deep nesting and an oversized file are refused, not crashed on', () => {
    expect(problems(`version: 1\nslos: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`)[0]!.message).toMatch(
      /^YAML: /,
    );
    expect(problems(`${BASE}#${'x'.repeat(MAX_POLICY_BYTES)}\n`)[0]!.message).toContain('characters long');
  });
});

describe('globs', () => {
  it.each([
    ['**/*a*a*a*b', /4 `\*` in the segment/],
    ['**/*(a*)b', /extended globs/],
    ['**/a/**/b/**/c', /3 `\*\*`/],
    ['x'.repeat(300), /300 characters/],
    ['{a,b}/{c,d}/{e,f}/{g,h}/{i,j}', /5 \{…\} groups/],
  ])('lint refuses %s', (pattern, reason) => {
    expect(globProblem(pattern)).toMatch(reason);
    const ps = problems(`${BASE}risk: { rules: [{ paths: ['${pattern}'], class: high }] }\n`);
    expect(ps).toEqual([expect.objectContaining({ path: 'risk.rules[0].paths[0]', line: 4 })]);
  });

  it.each([['prompts/**'], ['**/*.md'], ['src/**/*.test.*'], ['{prompts,models}/**'], ['**/*prompt*']])(
    'accepts %s',
    (p) => {
      expect(globProblem(p)).toBeNull();
    },
  );

  it('a path no checkout can hold is high risk, unmatched', () => {
    const risk = { default: 'low' as const, rules: [{ paths: ['**/*a*b'], class: 'low' as const }] };
    const long = `x/${'a'.repeat(MAX_PATH_LENGTH)}`;
    const r = classifyRisk(risk, [long, 'docs/ab']);
    expect(r.risk).toBe('high');
    expect(r.files[0]!.rule).toMatch(/^not classified: a path longer than 1024/);
    expect(r.files[1]).toMatchObject({ class: 'low', rule: 'risk.rules[0]' });
  });

  it('agrees with picomatch on every path within bounds (property)', () => {
    const patterns = ['prompts/**', '**/*.md', 'src/*a*/**', '{a,b}/*'];
    const risk = {
      default: 'low' as const,
      rules: patterns.map((p) => ({ paths: [p], class: 'high' as const })),
    };
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'src', 'prompts', 'x.md', '.hidden'), {
          minLength: 1,
          maxLength: 5,
        }),
        (parts) => {
          const path = parts.join('/');
          const index = patterns.findIndex((p) => picomatch(p, { dot: true })(path));
          expect(classifyRisk(risk, [path]).files[0]!.rule).toBe(
            index >= 0 ? `risk.rules[${index}]` : 'risk.default',
          );
        },
      ),
    );
  });
});

describe('the shadowed-glob check', () => {
  it('still finds shadowing by an earlier rule, for literal and glob bases', () => {
    const risk = {
      default: 'low' as const,
      rules: [
        { paths: ['prompts/**', 'models/x.json'], class: 'high' as const },
        { paths: ['prompts/a/*.md', 'models/x.json', 'docs/**'], class: 'low' as const },
      ],
    };
    expect(shadowedRiskRules(risk)).toEqual({
      complete: true,
      shadowed: [
        { rule: 1, index: 0, pattern: 'prompts/a/*.md', by: { rule: 0, pattern: 'prompts/**' } },
        { rule: 1, index: 1, pattern: 'models/x.json', by: { rule: 0, pattern: 'models/x.json' } },
      ],
    });
  });

  it('6,000 globs in distinct directories: only same-base pairs are compared, so it completes', () => {
    const rules = Array.from({ length: 6000 }, (_, i) => ({
      paths: [`dir${i}/**/*.md`],
      class: 'high' as const,
    }));
    const r = shadowedRiskRules({ default: 'low', rules });
    expect(r).toEqual({ complete: true, shadowed: [] });
  });

  it('thousands of globs sharing no base: the check stops at its comparison budget and says so', () => {
    const rules = Array.from({ length: 6000 }, (_, i) => ({ paths: [`**/*.x${i}`], class: 'high' as const }));
    expect(shadowedRiskRules({ default: 'low', rules }).complete).toBe(false);
    // A loadable policy holds at most MAX_RISK_PATTERNS globs: still far past the comparison budget.
    const text = `${BASE}risk:\n  rules:\n${rules
      .slice(0, MAX_RISK_PATTERNS)
      .map((r) => `    - { paths: ['${r.paths[0]}'], class: high }`)
      .join('\n')}\n`;
    const { warnings } = loadPolicy(text, 'p.yml');
    expect(warnings.find((w) => w.path === 'risk.rules')).toMatchObject({
      path: 'risk.rules',
      message: expect.stringContaining(`stopped after ${MAX_SHADOW_CHECKS} comparisons`),
    });
  });
});

describe('the glob budget covers the whole policy', () => {
  it('refuses more than MAX_RISK_PATTERNS risk globs across all rules, at the first one past the line', () => {
    const globs = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => `"d${from + i}/**"`).join(', ');
    const text = `${BASE}risk:\n  rules:\n    - { class: high, paths: [${globs(0, 600)}] }\n    - { class: low, paths: [${globs(600, 600)}] }\n`;
    const found = problems(text).filter((p) => /more than \d+ risk globs/.test(p.message));
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toBe(`risk.rules[1].paths[${MAX_RISK_PATTERNS - 600}]`);
  });
});
