// Extra HTTP headers as people write them in an env var, an action input or a flag: `Name: value`
// lines, or a JSON object of strings. Each caller words its own error; the parsing is this one.

export type HeaderParse =
  | { ok: true; headers: Record<string, string> }
  | { ok: false; problem: 'json' }
  | { ok: false; problem: 'line'; index: number; line: string };

/** A header name as HTTP allows it (RFC 9110 token), then `:` and the value. */
const HEADER_LINE = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*:\s*(.*?)\s*$/;

export function parseHeaderText(text: string): HeaderParse {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const v = JSON.parse(trimmed) as unknown;
      if (
        v &&
        typeof v === 'object' &&
        !Array.isArray(v) &&
        Object.values(v).every((x) => typeof x === 'string')
      )
        return { ok: true, headers: v as Record<string, string> };
    } catch {}
    return { ok: false, problem: 'json' };
  }
  const headers: Record<string, string> = {};
  for (const [index, line] of trimmed.split('\n').entries()) {
    if (line.trim() === '') continue;
    const m = HEADER_LINE.exec(line);
    if (!m) return { ok: false, problem: 'line', index, line };
    headers[m[1]!] = m[2]!;
  }
  return { ok: true, headers };
}
