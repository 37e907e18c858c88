import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_NAMES } from '../../src/cli/main.ts';
import { blocksOf, fenced, regenerate } from './blocks.ts';
import { policyKeysMarkdown } from './policy-keys.ts';
import { runBudgetGate } from './run-cli.ts';
import { shellWords } from './shell.ts';

// What `npm run docs` writes: every generated block of README.md and docs/*.md (blocks.ts), and in
// docs/cli.md a section for each command the CLI has, so a new command gets its usage block by
// re-running it.

export const ROOT = join(import.meta.dirname, '../..');

/** The clock generated output is made at: the bundled example's evaluation time. */
const DOCS_NOW = Date.parse('2026-11-20T09:00:00.000Z');

export function docFiles(): string[] {
  return [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `docs/${f}`),
  ];
}

/** The body of one generated block. */
async function generateBlock(spec: string): Promise<string> {
  if (spec === 'policy-keys') return policyKeysMarkdown();
  const prompt = spec.startsWith('$ ');
  const command = prompt ? spec.slice(2) : spec;
  const [line, head] = command.split(/\s+\|\s+head -n\s+/);
  const words = shellWords(line!);
  if (words[0] !== 'budget-gate') throw new Error(`generated block: unknown spec \`${spec}\``);
  const run = await runBudgetGate(words.slice(1), { cwd: ROOT, now: () => DOCS_NOW });
  if (run.code >= 70 || /please report this/.test(run.output))
    throw new Error(`generated block \`${spec}\` failed (exit ${run.code}):\n${run.output}`);
  let text = run.output.replace(/\s+$/, '');
  if (text.includes(ROOT)) throw new Error(`generated block \`${spec}\` prints this machine's path ${ROOT}`);
  if (head !== undefined) text = text.split('\n').slice(0, Number(head)).join('\n');
  return fenced(prompt ? `$ ${line}\n${text}` : text);
}

const CLI_DOC = 'docs/cli.md';
const NEW_COMMANDS = '<!-- new commands: `npm run docs` adds their sections above this line -->';
const helpSpec = (name: string) => `budget-gate ${name} --help`;

/** docs/cli.md with a section for every command that has none yet, before the NEW_COMMANDS line. */
function withEveryCommand(text: string): string {
  const specs = new Set(blocksOf(text).map((b) => b.spec));
  const missing = COMMAND_NAMES.filter((n) => !specs.has(helpSpec(n)));
  if (missing.length === 0) return text;
  if (!text.includes(NEW_COMMANDS)) throw new Error(`${CLI_DOC} has lost the line ${NEW_COMMANDS}`);
  const sections = missing.map(
    (n) => `## ${n}\n\n<!-- generated: ${helpSpec(n)} -->\n<!-- /generated -->\n\n`,
  );
  return text.replace(NEW_COMMANDS, `${sections.join('')}${NEW_COMMANDS}`);
}

/** What the file should hold: its text with every generated block made afresh. */
export async function generatedText(
  file: string,
  text = readFileSync(join(ROOT, file), 'utf8'),
): Promise<string> {
  return regenerate(file === CLI_DOC ? withEveryCommand(text) : text, generateBlock);
}
