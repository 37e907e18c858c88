// Every page is built with the `html` tag: each interpolated value is escaped unless it is already
// Html, so a repository name, an SLO, a reason or a login (all of which come from repositories and
// people) can never become markup. The one raw input is the SVG the chart library drew from
// numbers and fixed labels (charts.ts), wrapped by `trusted`.

export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function piece(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(piece).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += piece(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup produced by code that takes no text from outside (the chart renderer's SVG). */
export const trusted = (markup: string): Html => new Html(markup);

/**
 * A time for a person: UTC in the text, the instant in `datetime`, so the page's one script can
 * add the viewer's own zone next to it (the server cannot know it).
 */
export function time(iso: string | null): Html {
  if (iso === null) return html`—`;
  return html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC</time>`;
}

/** A path segment of a URL, for repository names in links. */
export const segment = (s: string): string => encodeURIComponent(s);
