import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { literal, unvisible, visible } from '../../src/report/markdown-text.ts';
import { checkReport, type Entry, entry, hostile, logOf, md, parse } from '../support/audit-markdown.ts';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/tasks.ts';

// `audit report` writes what records hold (actors, labels, messages, SLO names) into Markdown. The
// log is a file anyone with push access to its branch can write, so every field is text an
// attacker chose. The property: the report, parsed as CommonMark with GFM tables, reads back as
// exactly the records `--json` gives for the same log — field by field — and nothing a field holds
// becomes a link, an image, HTML, emphasis, a heading or a table cell of its own
// (test/support/audit-markdown.ts).

async function report(entries: Entry[]) {
  const dir = tempDir('bg-retro-');
  const file = join(dir, 'audit.jsonl');
  writeFileSync(file, logOf(entries));
  const text = await cli(['audit', 'report', file]);
  const json = await cli(['audit', 'report', file, '--json']);
  return { text, json: JSON.parse(json.stdout) as Record<string, unknown> };
}

describe('audit report: the Markdown renders back to the same records', () => {
  it('for any records, hostile fields included (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 6 }), async (entries) => {
        const { text, json } = await report(entries);
        expect(text.code).toBe(0);
        checkReport(text.stdout, json);
      }),
      { numRuns: Number(process.env.RENDER_RUNS ?? 150), seed: Number(process.env.RENDER_SEED ?? 20261120) },
    );
  }, 120_000);

  it('what the reader sees decodes to the record: visible loses nothing (property)', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        expect(unvisible(visible(s))).toBe(s);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not be left
        expect(visible(s)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
      }),
      { numRuns: 2000, seed: 20261120 },
    );
  });

  it('the hostile fixture: links, HTML, headings and line breaks stay text', async () => {
    const file = join(import.meta.dirname, '..', 'fixtures', 'hostile', 'audit', 'markdown-injection.jsonl');
    const r = await cli(['audit', 'report', file]);
    expect(r.code).toBe(0);
    const html = md.render(r.stdout);
    expect(html).not.toMatch(/<a |<img|<script|<b>|<em>|<h1>Injected|<hr/);
    // The report's title and its four sections: nothing a record holds adds a heading.
    expect((html.match(/<h[1-6]>/g) ?? []).length).toBe(5);
    const { sections } = parse(r.stdout);
    expect(sections.get('Exceptions')!.items[0]).toContain(
      'ok\\u000a\\u000a# Injected heading\\u000a<img src=x',
    );
    expect(sections.get('Refused attempts')!.items[0]).toContain('by @\\u202eevil');
    expect(literal('a  ')).toBe('a&#x20;&#x20;');
  });
});

describe('handoff: hostile audit records stay text in the shift summary', () => {
  it('no link, image, HTML or heading comes from a record', async () => {
    const dir = tempDir('bg-handoff-md-');
    const file = join(dir, 'audit.jsonl');
    writeFileSync(
      file,
      logOf([
        {
          kind: 'override-applied',
          repo: 'acme/agents <img src=x onerror=alert(1)>',
          pull_request: 7,
          label: 'override:x` [click](https://evil.example) `',
          reason: 'slo-wrong',
          actor: 'mallory\n\n# Injected heading\n [click](https://evil.example)',
          at: '2026-11-12T10:14:00.000Z',
          state: 'soft-pause',
          message: 'ok',
          slos: [],
        },
      ]),
    );
    const r = await cli([
      'handoff',
      '--policy',
      'examples/error-budget.yml',
      '--since',
      '2026-11-12T00:00:00Z',
      '--at',
      '2026-11-13T00:00:00Z',
      '--audit',
      file,
    ]);
    expect(r.code).toBe(0);
    const html = md.render(r.stdout);
    expect(html).toContain('mallory');
    expect(html).not.toMatch(/<a |<img|<script|<h1>Injected/);
    const headings = [...html.matchAll(/<h[1-6]>([^<]*)</g)].map((m) => m[1]!);
    expect(headings.filter((h) => h.includes('Injected'))).toEqual([]);
  });
});
