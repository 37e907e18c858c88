// Sloth and OpenSLO write the range as a Go template, `[{{.window}}]`, and usually over rate():
// budget-gate writes `[${window}]` and needs counts (for min_events and the bad/allowed figures),
// so rate(x[w]) becomes increase(x[w]) — the same ratio, since increase is rate × the range.

const TEMPLATE = /\{\{\s*\.window\s*\}\}/g;
const PLACEHOLDER = '$' + '{window}';

export const hasTemplateWindow = (q: string): boolean => /\{\{\s*\.window\s*\}\}/.test(q);

/** Index just past the parenthesis that closes the one opened before `from`; -1 if none. */
function closing(q: string, from: number): number {
  let depth = 1;
  let quote: string | null = null;
  for (let i = from; i < q.length; i++) {
    const c = q[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

export interface Converted {
  query: string;
  /** Whether a rate() over the window was read as increase(). */
  rateToIncrease: boolean;
}

/** `{{.window}}` → `${window}`, and rate() over exactly the window → increase(). */
export function fromTemplate(query: string): Converted {
  let out = '';
  let rateToIncrease = false;
  let i = 0;
  const rate = /(?<![A-Za-z0-9_:])rate\s*\(/g;
  for (let m = rate.exec(query); m !== null; m = rate.exec(query)) {
    const open = m.index + m[0].length;
    const end = closing(query, open);
    if (end < 0) break;
    const inner = query.slice(open, end - 1);
    if (/\[\s*\{\{\s*\.window\s*\}\}\s*\]\s*$/.test(inner)) {
      out += `${query.slice(i, m.index)}increase(${inner})`;
      i = end;
      rateToIncrease = true;
      rate.lastIndex = end;
    }
  }
  out += query.slice(i);
  return { query: out.replace(TEMPLATE, PLACEHOLDER).trim(), rateToIncrease };
}

/** A bare selector (`name{…}`, `{…}`), or sum()/sum by (…)() of one: what a counter query can be. */
const SELECTOR =
  /^\s*(?:sum\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(\s*(?<a>[A-Za-z_:][A-Za-z0-9_:]*\s*(?:\{[^}]*\})?|\{[^}]*\})\s*\)|(?<b>[A-Za-z_:][A-Za-z0-9_:]*\s*(?:\{[^}]*\})?|\{[^}]*\}))\s*$/;

/**
 * OpenSLO's `counter: true` queries name a counter with no range (`sum(http_requests{…})`): the
 * events in a range are its increase. Null when the query is more than a selector, where wrapping
 * it in increase() would sum before taking the increase and miss counter resets.
 */
export function counterIncrease(query: string): string | null {
  const m = SELECTOR.exec(query);
  const sel = m?.groups?.a ?? m?.groups?.b;
  if (!sel) return null;
  return `sum(increase(${sel.trim()}[${PLACEHOLDER}]))`;
}
