import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEMO_END, DEMO_TELEMETRY } from '../../src/scenarios/demo.ts';
import { cli } from '../support/cli.ts';

// The summary a blocked author reads: the verdict once, then what unblocks the change, most
// effective first — under HARD-PAUSE a revert, then an override, and waiting last.

const HARD = fileURLToPath(new URL('../fixtures/scenarios/_policies/demo-hard-pause.yml', import.meta.url));

async function summary(format: 'markdown' | 'text', files: string): Promise<string> {
  const r = await cli(
    [
      'evaluate',
      '--policy',
      HARD,
      '--telemetry',
      DEMO_TELEMETRY,
      '--at',
      DEMO_END,
      '--changed-files',
      '-',
      '--format',
      format,
    ],
    { stdin: files },
  );
  expect(r.code).toBe(1);
  return r.stdout;
}

describe('the blocked summary', () => {
  it('Markdown: the verdict once, in the title; the line under it gives the facts', async () => {
    const md = await summary('markdown', 'prompts/refund.md\n');
    const [title, , facts] = md.split('\n');
    expect(title).toBe('### 🔴 HARD-PAUSE — blocked');
    expect(facts).toBe('`prompts/refund.md` is high risk — tasks-success-paid 62% consumed at 2.1x pace');
    expect(md.match(/blocked/g)).toHaveLength(1);
    expect(md.match(/HARD-PAUSE/g)?.length).toBe(2); // the title, and the SLO's row in the table
  });

  it.each(['markdown', 'text'] as const)(
    '%s: under HARD-PAUSE, revert, then override, then wait',
    async (format) => {
      const out = await summary(format, 'prompts/refund.md\nsrc/ui/banner.tsx\n');
      const actions = out
        .split(/What you can do\**\n\n?/)[1]!
        .split('\n\n')[0]!
        .split('\n')
        .map((l) => l.replace(/^\s*[-•]\s*/, '').split(/[:(]/)[0]);
      expect(actions).toEqual(['only reverts ship during a hard pause', 'ask an approver ', 'wait']);
    },
  );
});
