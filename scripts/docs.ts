// `npm run docs`: rewrites every generated block in README.md and docs/*.md — the policy key
// tables from the schema, the CLI's usage from its --help, example outputs from the commands that
// print them — and leaves the prose around them alone (scripts/docs/blocks.ts).
// `npm run docs -- --check` writes nothing and exits 1 when a file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docFiles, generatedText, ROOT } from './docs/generate.ts';

const check = process.argv.includes('--check');
let stale = 0;
for (const file of docFiles()) {
  const before = readFileSync(join(ROOT, file), 'utf8');
  const after = await generatedText(file, before);
  if (after === before) continue;
  stale++;
  if (check) process.stderr.write(`docs: ${file} is out of date: run npm run docs\n`);
  else {
    writeFileSync(join(ROOT, file), after);
    process.stdout.write(`docs: rewrote ${file}\n`);
  }
}
if (check && stale > 0) process.exitCode = 1;
if (!check && stale === 0) process.stdout.write('docs: every generated block is up to date\n');
