// The commands of a fenced shell block, read as a shell would read them — enough of one for what
// docs show: `\` line continuations, `&&` lists, `|` pipelines, quotes, `# comments` — and the
// output a block shows for a command: the full-line comments right under it.

export interface ShellCommand {
  /** The command as written (continuations joined, the `$ ` prompt and trailing comment dropped). */
  text: string;
  /** 1-based line in the file where it starts. */
  line: number;
  /** The segments of its pipeline, each split into words (quotes removed). */
  pipeline: string[][];
  /** Lines the block shows as its output: the `# …` lines right under it, without the `# `. */
  shown: string[];
}

/** Splits one command line into words; stops at an unquoted `#` that starts a word. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word = `${word ?? ''}${line[++i]}`;
      else word = `${word ?? ''}${c}`;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '#' && word === null) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in: ${line}`);
  if (word !== null) words.push(word);
  return words;
}

/** Splits words at an operator word (`&&`, `|`). */
function splitAt(words: string[], op: string): string[][] {
  const parts: string[][] = [[]];
  for (const w of words) {
    if (w === op) parts.push([]);
    else parts.at(-1)!.push(w);
  }
  return parts;
}

/** The commands in a shell block whose first line is `firstLine` of its file. */
export function shellCommands(block: string, firstLine: number): ShellCommand[] {
  const lines = block.split('\n');
  const commands: ShellCommand[] = [];
  let last: ShellCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let text = lines[i]!.replace(/^\s*\$ /, '');
    if (/^\s*$/.test(text)) {
      last = [];
      continue;
    }
    if (/^\s*#/.test(text)) {
      for (const c of last) c.shown.push(text.replace(/^\s*# ?/, ''));
      continue;
    }
    while (text.endsWith('\\') && i + 1 < lines.length) text = `${text.slice(0, -1)} ${lines[++i]!.trim()}`;
    // `&&` and `|` are words only when spaced; docs always space them.
    const words = shellWords(text);
    const shownText = text.replace(/\s+#.*$/, '').trim();
    last = splitAt(words, '&&').map((list) => ({
      text: shownText,
      line: firstLine + start,
      pipeline: splitAt(list, '|'),
      shown: [],
    }));
    commands.push(...last);
  }
  return commands;
}
