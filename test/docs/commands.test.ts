import { cpSync, globSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fencesOf } from '../../scripts/docs/fences.ts';
import { docFiles, ROOT } from '../../scripts/docs/generate.ts';
import { type CliRun, runBudgetGate } from '../../scripts/docs/run-cli.ts';
import { type ShellCommand, shellCommands } from '../../scripts/docs/shell.ts';

// Every command README.md and docs/*.md show in a fenced shell block runs as written, on the
// bundled examples, in a fresh folder named budget-gate (as a clone is) that holds `examples/`:
// `budget-gate …`, `node bin/budget-gate.js …`, `npm run cli -- …` and `npm run demo` run the CLI
// in-process (bin/budget-gate.js does nothing else; scripts/pack-check runs the installed
// command). Each must exit 0 or 1 (allowed or blocked), and the lines a block shows as output
// (`# …` under the command) must be in what it prints. Output shown in a plain or `text` block
// must be a generated block (test/docs/generated.test.ts). What cannot run here is listed in
// NOT_RUN with the reason — nothing is skipped without one.

const NOT_RUN: Record<string, string> = {
  'npm install':
    'installs the dependencies this test runs on (scripts/pack-check installs the packed package)',
  'npm test': 'the test suite this test is part of',
  'npm run test:unit': 'the unit project of the test suite this test is part of',
  'budget-gate drill fast-burn --repo acme/agents --policy .github/error-budget.yml':
    'pages PagerDuty and Slack and opens a GitHub issue (test/oncall/drill.test.ts runs it against stand-ins)',
  'npm run typecheck': 'run by .ci/run on the whole tree',
  'npm run lint': 'run by .ci/run on the whole tree',
  'bash .ci/run': 'CI itself',
  'npm run bot':
    'a GitHub App server: needs APP_ID and a private key (test/cli/bot-first-run.test.ts runs its first start)',
  'docker run -p 3000:3000 -v bg-data:/data -e APP_ID=123456 -e PRIVATE_KEY=$(cat key.pem) -e WEBHOOK_SECRET=… -e BUDGET_GATE_PROMETHEUS_URL=http://prometheus:9090 budget-gate-bot':
    'needs Docker and a GitHub App',
  'budget-gate evaluate --policy .github/error-budget.yml --prometheus http://prometheus:9090':
    'needs a Prometheus at http://prometheus:9090 (test/import/evaluate.test.ts evaluates imported policies against a real one)',
  'git fetch origin budget-gate/audit': "fetches a repository's audit branch",
  'git show origin/budget-gate/audit:audit.jsonl | budget-gate audit verify - --head <sha256 of the anchored head>':
    "reads a repository's audit branch; the block after it runs verify on examples/audit/audit.jsonl",
  'git show origin/budget-gate/audit:audit.jsonl | budget-gate audit report - --since 2026-10-01':
    "reads a repository's audit branch; the line after it runs the same report on examples/audit/audit.jsonl",
};

const SHELL = new Set(['sh', 'bash', 'shell', 'console']);

/** The CLI arguments a command line means, or null when it is not the CLI. */
function cliArgs(words: string[]): string[] | null {
  const [a, b, c, d] = words;
  if (a === 'budget-gate') return words.slice(1);
  if (a === 'node' && b === 'bin/budget-gate.js') return words.slice(2);
  if (a === 'npx' && b === 'budget-gate') return words.slice(2);
  if (a === 'npm' && b === 'run' && c === 'cli' && d === '--') return words.slice(4);
  if (words.join(' ') === 'npm run demo') return ['demo'];
  return null;
}

/** Globs expand as the shell expands them, in the folder the command runs in. */
const expand = (words: string[], cwd: string) =>
  words.flatMap((w) => {
    if (!w.includes('*')) return [w];
    const found = globSync(w, { cwd }).sort();
    return found.length > 0 ? found : [w];
  });

/** A folder named budget-gate, as a clone is, with a copy of the bundled examples in it. */
function sandbox(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'bg-docs-')), 'budget-gate');
  cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
  return dir;
}

/** Commands that serve until stopped: started, their page fetched, then stopped. */
async function runServer(args: string[], cwd: string): Promise<CliRun> {
  const stop = new AbortController();
  let seen = '';
  let opened: (url: string) => void = () => {};
  const url = new Promise<string>((ok) => {
    opened = ok;
  });
  const run = runBudgetGate(args, {
    cwd,
    signal: stop.signal,
    onStdout: (s) => {
      seen += s;
      const m = /open (http:\/\/\S+)/.exec(seen);
      if (m) opened(m[1]!);
    },
  });
  const first = await Promise.race([url, run.then(() => null)]);
  if (first !== null) {
    const res = await fetch(first);
    expect(res.status, `GET ${first}`).toBe(200);
    await res.arrayBuffer();
    stop.abort();
  }
  return run;
}

/** The port the docs name may be held a moment by another run on this machine: wait, not fail. */
async function runServerAsWritten(args: string[], cwd: string): Promise<CliRun> {
  for (let attempt = 1; ; attempt++) {
    const r = await runServer(args, cwd);
    if (attempt === 5 || !r.stderr.includes('already in use')) return r;
    await new Promise((ok) => setTimeout(ok, 1000 * attempt));
  }
}

async function runCommand(c: ShellCommand, cwd: string): Promise<CliRun> {
  let stdin = '';
  let last: CliRun = { code: 0, stdout: '', stderr: '', output: '' };
  for (const segment of c.pipeline) {
    const args = cliArgs(segment);
    if (!args)
      throw new Error(`${c.text}: \`${segment.join(' ')}\` is not the CLI; list the command in NOT_RUN`);
    const argv = expand(args, cwd);
    last =
      argv[0] === 'dashboard'
        ? await runServerAsWritten(argv, cwd)
        : await runBudgetGate(argv, { cwd, stdin });
    stdin = last.stdout;
  }
  return last;
}

interface Found {
  file: string;
  command: ShellCommand;
}

function shellBlocks(): Array<{ file: string; line: number; commands: ShellCommand[] }> {
  return docFiles().flatMap((file) =>
    fencesOf(readFileSync(join(ROOT, file), 'utf8'))
      .filter((f) => !f.generated && (SHELL.has(f.lang) || (f.lang === '' && /^\s*\$ /.test(f.body))))
      .map((f) => ({ file, line: f.line, commands: shellCommands(f.body, f.line) })),
  );
}

const key = (c: ShellCommand) => c.pipeline.map((s) => s.join(' ')).join(' | ');

describe('every command in README.md and docs/*.md', () => {
  const blocks = shellBlocks();
  const all: Found[] = blocks.flatMap((b) => b.commands.map((command) => ({ file: b.file, command })));

  it('finds the commands the docs show', () => {
    expect(all.length).toBeGreaterThan(10);
    expect(
      all.some((f) => f.file === 'README.md' && cliArgs(f.command.pipeline[0]!)?.[0] === 'dashboard'),
    ).toBe(true);
  });

  it.each(blocks.map((b) => [`${b.file}:${b.line}`, b] as const))('%s runs as written', async (_, block) => {
    const cwd = sandbox();
    for (const command of block.commands) {
      const where = `${block.file}:${command.line} ${command.text}`;
      if (Object.hasOwn(NOT_RUN, key(command))) continue;
      const run = await runCommand(command, cwd);
      expect([0, 1], `${where}\nexit ${run.code}\n${run.output}`).toContain(run.code);
      const printed = run.output.split('\n').map((l) => l.trimEnd());
      for (const shown of command.shown)
        expect(printed, `${where}: the block shows "${shown}"`).toContain(shown.trimEnd());
    }
  });

  it('every command not run is listed with its reason, and every listed one is still in the docs', () => {
    const notCli = all.filter(
      (f) => !Object.hasOwn(NOT_RUN, key(f.command)) && f.command.pipeline.some((s) => !cliArgs(s)),
    );
    expect(notCli.map((f) => `${f.file}:${f.command.line} ${key(f.command)}`)).toEqual([]);
    const shown = new Set(all.map((f) => key(f.command)));
    expect(Object.keys(NOT_RUN).filter((k) => !shown.has(k))).toEqual([]);
  });

  it('output shown in a plain or text block is generated (npm run docs), never pasted', () => {
    const pasted = docFiles().flatMap((file) =>
      fencesOf(readFileSync(join(ROOT, file), 'utf8'))
        .filter((f) => !f.generated && (f.lang === 'text' || (f.lang === '' && !/^\s*\$ /.test(f.body))))
        .map((f) => `${file}:${f.line}`),
    );
    expect(pasted).toEqual([]);
  });
});
