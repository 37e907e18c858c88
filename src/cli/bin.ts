import { CliError, MAX_TEXT_BYTES } from './io.ts';
import { runCli } from './main.ts';

// The process around the CLI: standard streams, the clock, the exit status. bin/budget-gate.js
// loads this from the bundle (build/cli, built when the package is packed) or, in a clone of the
// repository on Node 24, from the TypeScript source as it is.

// `budget-gate demo | head` closes the pipe early: that is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

/** Standard input for `-` arguments, bounded like a file (MAX_TEXT_BYTES). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_TEXT_BYTES)
      throw new CliError(`standard input is more than the ${MAX_TEXT_BYTES} bytes it may have`);
    chunks.push(chunk as Buffer);
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
  stderrIsTTY: process.stderr.isTTY === true,
});
process.exitCode = code;
