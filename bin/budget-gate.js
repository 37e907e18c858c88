#!/usr/bin/env node
// Node 24 runs the TypeScript sources directly (type stripping); no build step for the CLI.
import { runCli } from '../src/cli/main.ts';

// `budget-gate demo | head` closes the pipe early: that is not an error worth a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

async function readStdin() {
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

const code = await runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  cwd: process.cwd(),
  now: () => Date.now(),
  stdin: readStdin,
});
process.exitCode = code;
