#!/usr/bin/env node
// Node 24 runs the TypeScript sources directly (type stripping); no build step for the CLI.
import { MAX_TEXT_BYTES } from '../src/cli/inputs.ts';
import { CliError } from '../src/cli/io.ts';
import { runCli } from '../src/cli/main.ts';

// `budget-gate demo | head` closes the pipe early: that is not an error worth a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

/** Standard input for `-` arguments, bounded like a file (src/cli/inputs.ts MAX_TEXT_BYTES). */
async function readStdin() {
  const chunks = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += chunk.length;
    if (size > MAX_TEXT_BYTES)
      throw new CliError(`standard input is more than the ${MAX_TEXT_BYTES} bytes it may have`);
    chunks.push(chunk);
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
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
