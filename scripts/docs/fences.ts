import { blocksOf } from './blocks.ts';

// The fenced blocks of a Markdown file, with whether each lies inside a generated block.

export interface Fence {
  lang: string;
  body: string;
  /** 1-based line of the block's first line of content. */
  line: number;
  generated: boolean;
}

export function fencesOf(text: string): Fence[] {
  const lines = text.split('\n');
  const generatedLines: Array<[number, number]> = blocksOf(text).map((b) => [
    b.line,
    b.line + b.body.split('\n').length,
  ]);
  const fences: Fence[] = [];
  let open: { fence: string; lang: string; line: number; body: string[] } | null = null;
  lines.forEach((l, i) => {
    const m = /^\s*(`{3,})(\S*)\s*$/.exec(l);
    if (!open && m) open = { fence: m[1]!, lang: m[2]!, line: i + 2, body: [] };
    else if (open && m && m[1] === open.fence && m[2] === '') {
      const at = open.line;
      fences.push({
        lang: open.lang,
        body: dedent(open.body),
        line: at,
        generated: generatedLines.some(([from, to]) => at > from && at <= to),
      });
      open = null;
    } else open?.body.push(l);
  });
  return fences;
}

/** A block indented under a list item, moved back to column 0. */
function dedent(lines: string[]): string {
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
}
