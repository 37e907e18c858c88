import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import {
  type AuditEntry,
  type AuditRecord,
  chainRecord,
  serializeRecord,
} from '../../src/policy/overrides/audit-chain.ts';
import { literal, unvisible, visible } from '../../src/report/markdown-text.ts';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/tasks.ts';

// `audit report` writes what records hold (actors, labels, messages, SLO names) into Markdown. The
// log is a file anyone with push access to its branch can write, so every field is text an
// attacker chose. The property: the report, parsed as CommonMark with GFM tables, reads back as
// exactly the records `--json` gives for the same log — field by field — and nothing a field holds
// becomes a link, an image, HTML, emphasis, a heading or a table cell of its own.
//
// markdown-it's linkify is left off: it runs over text after escapes are merged, which cmark-gfm's
// autolinker (GitHub's) does not; `literal` escapes the `:`, `@` and the dot after `www` that
// GitHub's autolinks start from, and a test below holds the source to that.

const md = new MarkdownIt({ html: true, linkify: false });

type Token = ReturnType<InstanceType<typeof MarkdownIt>['parse']>[number];

/** A field an attacker would write: Markdown, HTML, links, line breaks, escapes, bidi overrides. */
const hostile = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc
    .array(
      fc.constantFrom(
        '[x](javascript:alert(1))',
        '![i](http://evil/i.png)',
        '<script>alert(1)</script>',
        '<b>',
        '**b**',
        '_i_',
        '~~s~~',
        '`',
        '``',
        '|',
        '\n',
        '\r\n',
        '\n# h\n',
        '\n- item',
        '\n---\n',
        '&amp;',
        '&#x3c;',
        '\\',
        '\\*',
        '  ',
        '\t',
        '\u202e',
        '\u2028',
        '\u0000',
        'www.evil.example',
        'https://evil.example',
        'a@evil.example',
        ':smile:',
        '$x$',
        '#1',
        '1.',
        '\u00a0',
        'plain words',
      ),
      { maxLength: 6 },
    )
    .map((parts) => parts.join('')),
);

const entry = fc.record({
  kind: fc.constantFrom('override-applied', 'override-refused', 'revert-passed'),
  repo: hostile,
  pull_request: fc.option(fc.nat(9999), { nil: null }),
  label: hostile,
  reason: fc.option(fc.oneof(fc.constant('slo-wrong'), fc.constant('revert'), hostile), { nil: null }),
  actor: fc.option(hostile, { nil: null }),
  at: fc.oneof(
    fc
      .integer({ min: Date.parse('2026-01-01'), max: Date.parse('2026-12-31') })
      .map((t) => new Date(t).toISOString()),
    hostile,
  ),
  state: fc.constantFrom('ship', 'soft-pause', 'hard-pause'),
  message: hostile,
  slos: fc.array(
    fc.record({
      name: hostile,
      consumed: fc.constant(0.5),
      state: fc.constantFrom('ship', 'soft-pause'),
    }),
    { maxLength: 3 },
  ),
});

function logOf(entries: Array<Omit<AuditEntry, 'sha' | 'author' | 'source'>>): string {
  let prev: AuditRecord | null = null;
  let out = '';
  for (const e of entries) {
    const r = chainRecord(prev, { ...e, sha: null, author: null, source: 'cli' } as AuditEntry);
    out += serializeRecord(r);
    prev = r;
  }
  return out;
}

/** The text of an inline token's children; a child that is not text or code fails the property. */
function inlineText(inline: Token, allowStrong = false): string {
  let out = '';
  for (const t of inline.children ?? []) {
    if (t.type === 'text' || t.type === 'code_inline') out += t.content;
    else if (allowStrong && (t.type === 'strong_open' || t.type === 'strong_close')) continue;
    else throw new Error(`a field made Markdown: ${t.type} in ${JSON.stringify(inline.content)}`);
  }
  return out;
}

interface Parsed {
  sections: Map<string, { items: string[]; tables: string[][][] }>;
}

/** The report as a reader's parser sees it: each `##` section's list items and table rows, as text. */
function parse(markdown: string): Parsed {
  const tokens = md.parse(markdown, {});
  const sections = new Map<string, { items: string[]; tables: string[][][] }>();
  let current = { items: [] as string[], tables: [] as string[][][] };
  let table: string[][] | null = null;
  let row: string[] | null = null;
  let inBody = false;
  let item = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === 'heading_open') {
      const level = t.tag;
      const text = inlineText(tokens[i + 1]!);
      if (level === 'h2') {
        current = { items: [], tables: [] };
        sections.set(text.replace(/ \(\d+\)$/, ''), current);
      } else if (level !== 'h1') throw new Error(`a heading the report does not write: ${text}`);
    } else if (t.type === 'table_open') table = [];
    else if (t.type === 'tbody_open') inBody = true;
    else if (t.type === 'tbody_close') inBody = false;
    else if (t.type === 'tr_open' && inBody) row = [];
    else if (t.type === 'tr_close' && row) {
      table!.push(row);
      row = null;
    } else if (t.type === 'td_open' && row) row.push(inlineText(tokens[i + 1]!));
    else if (t.type === 'table_close') {
      current.tables.push(table!);
      table = null;
    } else if (t.type === 'list_item_open') item = true;
    else if (t.type === 'inline' && item) {
      current.items.push(inlineText(t, true));
      item = false;
    } else if (
      t.type === 'html_block' ||
      t.type === 'hr' ||
      t.type === 'blockquote_open' ||
      t.type === 'fence'
    )
      throw new Error(`a field made a block: ${t.type}`);
  }
  return { sections };
}

type Rec = {
  repo: string;
  pull_request: number | null;
  label: string;
  actor: string | null;
  at: string;
  state: string;
  message: string;
};

// The line each record is written as, in the text a reader sees: the template's words, and each
// field as `visible` shows it. A parser trims spaces at either end of a line: the template's go
// when the field beside them is empty; a field's own are written as character references and stay.
type Part = string | { field: string };
function line(parts: Part[]): string {
  const text = parts.map((p) => (typeof p === 'string' ? p : visible(p.field)));
  const trim = (order: number[], cut: (s: string) => string) => {
    for (const i of order) {
      if (typeof parts[i] !== 'string') {
        if (text[i] !== '') return;
        continue;
      }
      text[i] = cut(text[i]!);
      if (text[i] !== '') return;
    }
  };
  const idx = parts.map((_, i) => i);
  trim(idx, (s) => s.replace(/^ +/, ''));
  trim(idx.reverse(), (s) => s.replace(/ +$/, ''));
  return text.join('');
}
const where = (r: Rec): Part[] => [{ field: r.repo }, r.pull_request !== null ? `#${r.pull_request}` : ''];
const by = (a: string | null): Part[] => (a === null ? ['by (unknown)'] : ['by @', { field: a }]);
const exceptionLine = (r: Rec) =>
  line([
    { field: r.at.slice(0, 16) },
    ' ',
    ...where(r),
    ' ',
    { field: r.label },
    ' ',
    ...by(r.actor),
    ` in ${r.state}: `,
    { field: r.message },
  ]);
const refusedLine = (r: Rec) =>
  line([
    { field: r.at.slice(0, 16) },
    ' ',
    ...where(r),
    ' ',
    { field: r.label },
    ' ',
    ...by(r.actor),
    ': ',
    { field: r.message },
  ]);
const revertLine = (r: Rec) =>
  line([{ field: r.at.slice(0, 16) }, ' ', ...where(r), ` in ${r.state}: `, { field: r.message }]);

type Entry = typeof entry extends fc.Arbitrary<infer T> ? T : never;

async function report(entries: Entry[]) {
  const dir = tempDir('bg-retro-');
  const file = join(dir, 'audit.jsonl');
  writeFileSync(file, logOf(entries));
  const text = await cli(['audit', 'report', file]);
  const json = await cli(['audit', 'report', file, '--json']);
  return { text, json: JSON.parse(json.stdout) as Record<string, unknown>, file };
}

describe('audit report: the Markdown renders back to the same records', () => {
  it('for any records, hostile fields included (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 6 }), async (entries) => {
        const { text, json } = await report(entries);
        expect(text.code).toBe(0);
        const parsed = parse(text.stdout);
        const section = (name: string) => parsed.sections.get(name)!;
        const exceptions = json.exceptions as Rec[];
        const refused = json.refused as Rec[];
        const reverts = json.reverts as Rec[];
        // Each list item reads back as its record, field by field, in the order --json gives. (The
        // template's own spaces at either end go when the field beside them is empty: a field's own
        // whitespace there is written as character references and stays.)
        const lines = (f: (r: Rec) => string, rs: Rec[]) => rs.map(f);
        expect(exceptions.length ? section('Exceptions').items : []).toEqual(
          lines(exceptionLine, exceptions),
        );
        expect(refused.length ? section('Refused attempts').items : []).toEqual(lines(refusedLine, refused));
        expect(reverts.length ? section('Reverts that passed a pause').items : []).toEqual(
          lines(revertLine, reverts),
        );
        // The tables: one row per key, its text the key's.
        if (exceptions.length) {
          const [reasons, approvers, slos] = section('Exceptions').tables;
          const rows = (m: unknown) =>
            Object.entries(m as Record<string, number>)
              .map(([k, n]) => [visible(k), String(n)])
              .sort();
          expect([...reasons!].sort()).toEqual(rows(json.by_reason));
          expect([...approvers!].sort()).toEqual(rows(json.by_approver));
          expect([...slos!].sort()).toEqual(rows(json.by_slo));
        }
        // And `visible` loses nothing: the reader's text decodes to the record's.
        for (const r of [...exceptions, ...refused, ...reverts])
          expect(unvisible(visible(r.message))).toBe(r.message);
        // No autolink can start in a field: GitHub links `http:`, `www.` and `a@b.c` in text.
        // (Code spans aside: nothing in one is linked.)
        const prose = text.stdout.replace(/(?<!\\)(`+)[\s\S]*?\1(?!`)/g, '');
        expect(prose).not.toMatch(/(?:https?|mailto|xmpp):|www\./i);
        expect(prose).not.toMatch(/[^\s\\]@/);
      }),
      { numRuns: Number(process.env.RENDER_RUNS ?? 150), seed: Number(process.env.RENDER_SEED ?? 20261120) },
    );
  }, 120_000);

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
