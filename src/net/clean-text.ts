// C0/C1 controls (escape sequences, carriage returns that rewrite a log line) and the bidi
// overrides that make text read differently than it is.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Server text fit for a log line or a check run: no control characters, one line, bounded. A long
 * one keeps its head and its tail: servers that echo the whole query put the reason at the end.
 */
export function cleanText(s: string, max = 600): string {
  const flat = s.replace(UNSAFE, '').replace(/\s*[\r\n\t]+\s*/g, ' ');
  if (flat.length <= max) return flat;
  const half = Math.floor(max / 2);
  return `${flat.slice(0, half)} … ${flat.slice(-half)}`;
}
