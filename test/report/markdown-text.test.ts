import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { code, prose, relativeToWorkspace } from '../../src/report/markdown-text.ts';

// markdown-it follows CommonMark, as GitHub's cmark-gfm does: linkify and tables on, like GFM.
const md = new MarkdownIt({ html: true, linkify: true });

/** What a reader sees of one Markdown paragraph: the rendered HTML's text. */
function seen(markdown: string): string {
  return md
    .render(markdown)
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

describe('prose: sentences made safe for GitHub Markdown', () => {
  it('puts globs and paths in code spans, so `prompts/**, models/**` keeps its asterisks', () => {
    const reason = 'prompts/refund.md is high risk (risk.rules[0]: prompts/**, models/**, config/model*.yml)';
    const out = prose(reason);
    expect(out).toBe(
      '`prompts/refund.md` is high risk (risk.rules\\[0\\]: `prompts/**`, `models/**`, `config/model*.yml`)',
    );
    expect(seen(out)).toBe(reason);
    expect(md.render(out)).not.toMatch(/<(em|strong)>/);
  });

  it('keeps the code spans a message already has, and mentions as mentions', () => {
    expect(prose('apply `override:slo-wrong` (@acme/sre)')).toBe('apply `override:slo-wrong` (@acme/sre)');
  });

  it('escapes what would start a block at the start of a line', () => {
    expect(seen(`- ${prose('# not a heading')}`)).toBe('# not a heading');
    expect(seen(prose('1. not a list'))).toBe('1. not a list');
  });

  it('any sentence of Markdown punctuation reads back exactly as written', () => {
    // Single characters, and the pieces of Markdown constructs a random string would rarely assemble.
    const alphabet = fc.oneof(
      fc.constantFrom(...'ab/*_[]<>~|()!#-.{}?&;:=+1 \\'.split('')),
      fc.constantFrom(
        '&amp;',
        '&#42;',
        '**',
        '__',
        '~~',
        '<b>',
        '</b>',
        '[x](y)',
        '![i](j)',
        'http://x.io/a_b',
        'www.x.io',
        ' 2. ',
        '\\*',
      ),
    );
    fc.assert(
      fc.property(fc.array(alphabet, { minLength: 1, maxLength: 40 }), (chars) => {
        const text = chars.join('').replace(/\s+/g, ' ').trim();
        fc.pre(text.length > 0);
        expect(seen(prose(text))).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('code spans hold backticks and edge spaces intact', () => {
    for (const s of ['a`b', '`x`', ' lead and trail ', 'plain'])
      expect(md.renderInline(code(s)).replace(/<\/?code>/g, '')).toBe(s.replace(/`/g, '`'));
  });

  it('paths under the workspace become relative; others stay', () => {
    expect(
      relativeToWorkspace('jsonl /home/runner/work/r/r/telemetry/t.jsonl', '/home/runner/work/r/r/'),
    ).toBe('jsonl telemetry/t.jsonl');
    expect(relativeToWorkspace('jsonl /data/t.jsonl', '/home/runner/work/r/r')).toBe('jsonl /data/t.jsonl');
    expect(relativeToWorkspace('jsonl /data/t.jsonl', '/')).toBe('jsonl /data/t.jsonl');
  });
});
