import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blocksOf } from '../../scripts/docs/blocks.ts';
import { docFiles, generatedText, ROOT } from '../../scripts/docs/generate.ts';
import { policyKeysMarkdown } from '../../scripts/docs/policy-keys.ts';
import { COMMAND_NAMES } from '../../src/cli/main.ts';

// The generated parts of the docs — the policy key tables (from the schema), the CLI's usage (from
// its --help) and example outputs (from the commands that print them) — are what the generator
// writes today. When this fails, run `npm run docs` and commit what it rewrote.

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

describe('generated blocks in README.md and docs/*.md', () => {
  it.each(docFiles())('%s is what `npm run docs` writes', async (file) => {
    const text = read(file);
    const fresh = await generatedText(file, text);
    expect(fresh, `${file} is out of date: run npm run docs`).toBe(text);
  });

  it('docs/policy.md lists every key of the schema, from the schema', () => {
    const text = read('docs/policy.md');
    expect(blocksOf(text).map((b) => b.spec)).toContain('policy-keys');
    const tables = policyKeysMarkdown();
    for (const key of ['`states.max_data_age`', '`auto_revert.control`', '`oncall.swaps[].shifts`'])
      expect(tables).toContain(key);
    // Defaults come from the schema itself, not from prose.
    expect(tables).toMatch(/`states\.soft_pause\.consumed` +\| fraction[^|]*\| `0\.5` /);
  });

  it('docs/cli.md has the --help of every command the CLI has', () => {
    const specs = blocksOf(read('docs/cli.md')).map((b) => b.spec);
    expect(specs).toContain('budget-gate --help');
    for (const name of COMMAND_NAMES) expect(specs).toContain(`budget-gate ${name} --help`);
  });

  it('a new command gets its section when the generator runs', async () => {
    const text = read('docs/cli.md');
    const without = text.replace(/## lint\n[\s\S]*?(?=## simulate)/, '');
    expect(without).not.toContain('budget-gate lint --help');
    const fresh = await generatedText('docs/cli.md', without);
    expect(fresh).toContain(
      '## lint\n\n<!-- generated: budget-gate lint --help -->\n```text\nbudget-gate lint FILE...',
    );
  });
});
