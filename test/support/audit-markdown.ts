import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import {
  type AuditEntry,
  type AuditRecord,
  chainRecord,
  serializeRecord,
} from '../../src/policy/overrides/audit-chain.ts';
import { visible } from '../../src/report/markdown-text.ts';

// `audit report` as a reader's Markdown parser sees it, and the records it must read back as: for
// the property test (test/cli/audit-report-render.test.ts) and the fuzz target (test/fuzz).
//
// markdown-it's linkify is left off: it runs over text after escapes are merged, which cmark-gfm's
// autolinker (GitHub's) does not; `literal` escapes the `:`, `@` and the dot after `www` that
// GitHub's autolinks start from, and `checkReport` holds the source to that.

export const md = new MarkdownIt({ html: true, linkify: false });

type Token = ReturnType<InstanceType<typeof MarkdownIt>['parse']>[number];

/** A field an attacker would write: Markdown, HTML, links, line breaks, escapes, bidi overrides. */
export const hostile = fc.oneof(
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

export const entry = fc.record({
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

export function logOf(entries: Array<Omit<AuditEntry, 'sha' | 'author' | 'source'>>): string {
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
export function parse(markdown: string): Parsed {
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
/** A label's line: when, where, which label, by whom, then `verdict` and the message. */
const labelLine = (r: Rec, verdict: string) =>
  line([
    { field: r.at.slice(0, 16) },
    ' ',
    ...where(r),
    ' ',
    { field: r.label },
    ' ',
    ...by(r.actor),
    verdict,
    { field: r.message },
  ]);
const exceptionLine = (r: Rec) => labelLine(r, ` in ${r.state}: `);
const refusedLine = (r: Rec) => labelLine(r, ': ');
const revertLine = (r: Rec) =>
  line([{ field: r.at.slice(0, 16) }, ' ', ...where(r), ` in ${r.state}: `, { field: r.message }]);

export type Entry = typeof entry extends fc.Arbitrary<infer T> ? T : never;

const same = (what: string, got: unknown, want: unknown) => {
  if (JSON.stringify(got) !== JSON.stringify(want))
    throw new Error(
      `${what}: the Markdown reads back as ${JSON.stringify(got)}, the records are ${JSON.stringify(want)}`,
    );
};

/**
 * The property: `markdown` (the report) read by a CommonMark parser gives back exactly the records
 * `json` (the same report, --json) holds, field by field, and no field made Markdown of its own.
 * Throws, saying where, when it does not.
 */
export function checkReport(markdown: string, json: Record<string, unknown>): void {
  const parsed = parse(markdown);
  const section = (name: string) => parsed.sections.get(name) ?? { items: [], tables: [] };
  const exceptions = json.exceptions as Rec[];
  const refused = json.refused as Rec[];
  const reverts = json.reverts as Rec[];
  same('exceptions', section('Exceptions').items, exceptions.map(exceptionLine));
  same('refused attempts', section('Refused attempts').items, refused.map(refusedLine));
  same('reverts', section('Reverts that passed a pause').items, reverts.map(revertLine));
  if (exceptions.length) {
    const [reasons, approvers, slos] = section('Exceptions').tables;
    const rows = (m: unknown) =>
      Object.entries(m as Record<string, number>)
        .map(([k, n]) => [visible(k), String(n)])
        .sort();
    same('reasons', [...(reasons ?? [])].sort(), rows(json.by_reason));
    same('approvers', [...(approvers ?? [])].sort(), rows(json.by_approver));
    same('SLOs', [...(slos ?? [])].sort(), rows(json.by_slo));
  }
  // No autolink can start in a field: GitHub links `http:`, `www.` and `a@b.c` in text (code
  // spans aside: nothing in one is linked).
  const prose = markdown.replace(/(?<!\\)(`+)[\s\S]*?\1(?!`)/g, '');
  if (/(?:https?|mailto|xmpp):|www\./i.test(prose)) throw new Error('an autolink could start in a field');
  if (/[^\s\\]@/.test(prose)) throw new Error('an email autolink could start in a field');
}
