// Generated blocks in Markdown: the text between
//   <!-- generated: SPEC -->
//   <!-- /generated -->
// is rewritten by `npm run docs` from SPEC, and test/docs/generated.test.ts fails when a file
// differs from what the generator writes. Everything outside the markers is prose people write.
//
// SPEC is one of
//   policy-keys               the policy reference's key tables, from the schema (policy-keys.ts)
//   budget-gate ARGS…         a fenced block with what the command prints, run in-process
//   $ budget-gate ARGS…       the same, with the command on the block's first line
// and a command may end in `| head -n N` to show its first N lines.

const BLOCK = /<!-- generated: (.+?) -->\n([\s\S]*?)<!-- \/generated -->/g;

export interface Block {
  spec: string;
  /** What is between the markers now. */
  body: string;
  /** 1-based line of the opening marker. */
  line: number;
}

export function blocksOf(text: string): Block[] {
  return [...text.matchAll(BLOCK)].map((m) => ({
    spec: m[1]!,
    body: m[2]!,
    line: text.slice(0, m.index).split('\n').length,
  }));
}

/** The text with every block's body replaced by what `generate` makes of its spec. */
export async function regenerate(text: string, generate: (spec: string) => Promise<string>): Promise<string> {
  const bodies = new Map<string, string>();
  for (const b of blocksOf(text)) if (!bodies.has(b.spec)) bodies.set(b.spec, await generate(b.spec));
  return text.replace(
    BLOCK,
    (_, spec: string) => `<!-- generated: ${spec} -->\n${bodies.get(spec)}\n<!-- /generated -->`,
  );
}

/** A fenced block that stays one block whatever it holds (a longer fence than any run of backticks inside). */
export function fenced(text: string, lang = 'text'): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${text}\n${fence}`;
}
