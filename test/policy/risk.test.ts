import { describe, expect, it } from 'vitest';
import { classifyRisk, isRevert } from '../../src/policy/index.ts';
import { change, policy } from './fixtures.ts';

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

  it('an empty change set takes the default class', () => {
    expect(classifyRisk({ ...risk, default: 'high' }, []).risk).toBe('high');
  });

  it.each([
    [{ title: 'Revert "Rewrite refund prompt"' }, true],
    [{ head_ref: 'revert-42-prompt-rewrite' }, true],
    [{ head_ref: 'budget-gate/revert-1234' }, true],
    [{ commit_messages: ['Revert "x"\n\nThis reverts commit 0123456789abcdef.'] }, true],
    [{ commit_messages: ['This reverts commit abcdef1.', 'and sneaks in a prompt'] }, false],
    [{ title: 'Reverting to old behaviour is not a revert of a deploy' }, false],
    [{ title: 'Add retries' }, false],
  ])('%j is a revert: %s', (extra, expected) => {
    expect(isRevert(change(['a'], extra))).toBe(expected);
  });
});
