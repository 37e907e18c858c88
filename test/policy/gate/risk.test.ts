import { describe, expect, it } from 'vitest';
import { classifyRisk, MAX_MATCHES } from '../../../src/policy/gate/risk.ts';
import { judgeRevert } from '../../../src/policy/gate/verdict.ts';
import { change, policy } from '../fixtures.ts';

const risk = policy().risk;

describe('risk', () => {
  it('the first matching rule classifies a file; the change is as risky as its riskiest file', () => {
    const r = classifyRisk(risk, ['src/a.ts', 'models/gpt.json', '.github/prompts/x.md']);
    expect(r.risk).toBe('high');
    expect(r.files).toEqual([
      { path: 'src/a.ts', class: 'low', rule: 'risk.default' },
      { path: 'models/gpt.json', class: 'high', rule: 'risk.rules[0]' },
      { path: '.github/prompts/x.md', class: 'low', rule: 'risk.default' },
    ]);
    expect(classifyRisk(risk, ['docs/a.md']).risk).toBe('low');
  });

  it('counts every pattern of a rule against the match budget: 2,000 globs in one rule cannot run unbounded', () => {
    const many = {
      default: 'low' as const,
      rules: [{ class: 'low' as const, paths: Array.from({ length: 2000 }, (_, i) => `n${i}*x*/**`) }],
    };
    const files = Array.from({ length: 3000 }, (_, i) => `src/f${i}.ts`);
    const r = classifyRisk(many, files);
    const classified = r.files.filter((f) => f.rule === 'risk.default').length;
    // 2,000 patterns a file: the budget of 2,000,000 matches covers the first 1,000 files, no more.
    expect(classified).toBe(MAX_MATCHES / 2000);
    expect(r.files[classified]).toMatchObject({
      class: 'high',
      rule: expect.stringMatching(/^not classified: /),
    });
    expect(r.risk).toBe('high');
  });

  it('an empty change set takes the default class', () => {
    expect(classifyRisk({ ...risk, default: 'high' }, []).risk).toBe('high');
  });

  // What a change says about itself is a claim, never evidence: anyone can write a title, a branch
  // name or a commit message. Each claim is named so the decision can say why it was not believed.
  it.each([
    [{ title: 'Revert "Rewrite refund prompt"' }, /title says "Revert/],
    [{ title: 'Revert-proof prompt rewrite' }, /title says "Revert-proof/],
    [{ head_ref: 'revert-42-prompt-rewrite' }, /branch is named revert-42/],
    [{ head_ref: 'budget-gate/revert-1234' }, /branch is named budget-gate\/revert-1234/],
    [
      { commit_messages: ['Revert "x"\n\nThis reverts commit 0123456789abcdef.'] },
      /This reverts commit 0123456789abcdef/,
    ],
    [{ title: 'Add retries' }, null],
  ])('%j is not a revert without evidence (claim: %s)', (extra, claim) => {
    const v = judgeRevert(change(['a'], extra));
    if (claim === null) expect(v).toEqual({ kind: 'none' });
    else {
      expect(v.kind).toBe('claimed');
      expect(v.kind === 'claimed' && v.claim).toMatch(claim);
    }
  });

  it.each([
    {
      kind: 'app-pull-request' as const,
      app: 'budget-gate',
      pull_request: 9,
      branch: 'budget-gate/revert-1',
    },
    { kind: 'inverse-diff' as const, reverts: 'a'.repeat(40), files: 2 },
    { kind: 'rollback' as const, sha: 'b'.repeat(40), environment: 'production', deployment_id: 4 },
  ])('evidence GitHub vouches for ($kind) makes a revert, whatever the title', (evidence) => {
    const v = judgeRevert(change(['a'], { title: 'Tweak prompts', revert_evidence: evidence }));
    expect(v).toEqual({ kind: 'revert', evidence });
  });
});
