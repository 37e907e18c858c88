// Plain sentences (reasons, actions, headlines, warnings) made safe for GitHub Flavored Markdown.
// A reason quoting `prompts/**, models/**` would otherwise lose its asterisks to emphasis and put
// "models/" in bold: paths, globs and URLs go in code spans, and what is left has its Markdown
// punctuation escaped, so the reader sees exactly the characters the policy has.

/** `text` as one code span, whatever backticks it holds (CommonMark: a longer fence, padded). */
export function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  // CommonMark strips one space from each end when both have one: pad so the text survives.
  const pad = /^`|`$/.test(text) || /^ (?=[\s\S]*[^ ])[\s\S]* $/.test(text) ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A word that names a path, glob or URL: it holds a slash, an asterisk or a brace. */
const PATHLIKE = /[/*{}]/;
/** Inline Markdown punctuation: emphasis, code, links, HTML, entities, strikethrough, tables. */
const ESCAPE = /[\\`*_[\]<>~|&]/g;
/** What would start a block (heading, quote, list, setext underline) at the start of a line. */
const BLOCK_START = /^(#|>|[-+=]|\d+[.)])/;

/** Leading and trailing punctuation that belongs to the sentence, not to the path. */
function splitPunctuation(word: string): [string, string, string] {
  let lead = '';
  let core = word;
  while (/^[("'“]/.test(core) && core.length > 1) {
    lead += core[0];
    core = core.slice(1);
  }
  let trail = '';
  for (;;) {
    const last = core.at(-1);
    if (core.length <= 1 || last === undefined) break;
    const unbalanced = last === ')' && count(core, '(') < count(core, ')');
    if (!(/[,;:.!?"'”]/.test(last) || unbalanced)) break;
    trail = last + trail;
    core = core.slice(0, -1);
  }
  return [lead, core, trail];
}

const count = (s: string, ch: string) => s.split(ch).length - 1;

function proseWord(word: string): string {
  const [lead, core, trail] = splitPunctuation(word);
  // `@org/team` is a mention, which GitHub links; a slash in it is no Markdown.
  if (PATHLIKE.test(core) && /[\w*]/.test(core) && !core.startsWith('@'))
    return `${escapeMarkdown(lead)}${code(core)}${escapeMarkdown(trail)}`;
  return escapeMarkdown(word);
}

const escapeMarkdown = (s: string): string => s.replace(ESCAPE, '\\$&');

/**
 * A sentence as Markdown: code spans it already has are kept, paths and globs become code spans,
 * and the remaining Markdown punctuation is escaped. Line breaks become spaces (a list item is one line).
 */
export function prose(text: string): string {
  const out: string[] = [];
  // Existing code spans: a backtick run, anything, the same run (CommonMark's rule, simplified).
  const spans = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g;
  let last = 0;
  for (const m of text.matchAll(spans)) {
    out.push(plain(text.slice(last, m.index)), m[0]);
    last = m.index + m[0].length;
  }
  out.push(plain(text.slice(last)));
  const md = out.join('');
  return BLOCK_START.test(md) ? md.replace(BLOCK_START, (m) => m.replace(/[^\d]/, '\\$&')) : md;
}

function plain(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .split(/(\s+)/)
    .map((part) => (/^\s*$/.test(part) ? part : proseWord(part)))
    .join('');
}

/**
 * Absolute paths under the workspace, made relative to it: the runner's checkout directory
 * (`/home/runner/work/repo/repo`) is noise to a reader, and says nothing about the repository.
 */
export function relativeToWorkspace(text: string, workspace: string | undefined): string {
  const root = workspace?.replace(/\/+$/, '');
  if (!root || root.length < 2) return text;
  return text.split(`${root}/`).join('');
}

// Text a record holds (an actor, a label, a message from an audit log anyone with push access can
// edit) goes into a report exactly: the Markdown reads back as the same characters, and no field
// can open a link, an image, HTML, emphasis or a new block. Two layers:
//  - `visible`: what Markdown cannot show is written as an escape: control characters, line and
//    paragraph separators and the bidi overrides as `\uXXXX`, and the backslash itself doubled,
//    so `unvisible` gives back the record's text exactly;
//  - `literal`: each character that can start inline Markdown inside a line backslash-escaped
//    (CommonMark makes an escaped punctuation mark a plain character): code, emphasis,
//    strikethrough, links and images, HTML, entities, table cells, and GitHub's extras (math `$`,
//    emoji `:name:`, autolinked `http:`, `www.` and `a@b.c`, `#123` references); whitespace at
//    either end as a character reference, which no parser trims; and what would start a block at
//    the start of a line (`-`, `+`, `>`, `1.`; `#` is escaped everywhere, for GitHub's references).

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it encodes
const INVISIBLE = /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with what a reader could not see (or what would break a line) as `\uXXXX`, and `\` as `\\`. */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (c) =>
    c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The inverse of `visible`. */
export function unvisible(text: string): string {
  return text.replace(/\\(\\|u([0-9a-f]{4}))/g, (_m, all: string, hex: string | undefined) =>
    hex ? String.fromCharCode(Number.parseInt(hex, 16)) : all,
  );
}

const INLINE = /[\\`*_~[\]<>&|$:@#]|(?<=www)\./gi;

/** Record text as Markdown inline content that renders as `visible(text)`, and only as that. */
export function literal(text: string): string {
  const escaped = visible(text)
    .replace(INLINE, '\\$&')
    // A field can open a line (the first of a list item, or after empty ones): what would start a
    // block there (a list, a quote, a setext underline) is escaped too.
    .replace(/^(\d{1,9})([.)])/, '$1\\$2')
    .replace(/^[-+=>]/, '\\$&');
  // Leading and trailing whitespace is trimmed from paragraphs and table cells: a character
  // reference keeps it (JavaScript's \s, as markdown-it trims with String.prototype.trim).
  const ref = (s: string) => [...s].map((c) => `&#x${c.codePointAt(0)!.toString(16)};`).join('');
  return escaped.replace(/^\s+/, ref).replace(/\s+$/, ref);
}

/** Record text as one code span that reads back as `visible(text)`. */
export function literalCode(text: string): string {
  // An empty code span cannot be written (`` is two backticks of text).
  return text === '' ? '' : code(visible(text));
}
