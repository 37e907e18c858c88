#!/usr/bin/env node
// The `budget-gate` command. Plain JavaScript any Node can parse, so an old Node gets one line
// saying what to install, never a stack trace. In a clone of the repository (npm link included)
// it runs the TypeScript sources, which Node 24 runs as they are, so a bundle built earlier never
// runs stale code; in an installed package (under node_modules, where Node will not strip types)
// it runs the bundle, build/cli, built when the package is packed (`npm run build:cli`).
import { existsSync, realpathSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

const MIN_MAJOR = 22;
const major = Number(process.versions.node.split('.')[0]);
const say = (line) => {
  process.stderr.write(`budget-gate: ${line}\n`);
  process.exit(2);
};

if (major < MIN_MAJOR)
  say(
    `needs Node ${MIN_MAJOR} or newer (Node 24 LTS recommended); this is Node ${process.version}. Install it from https://nodejs.org/en/download (or \`nvm install 24\`); in a clone of the repository, \`npm run cli -- <command>\` fetches Node 24 for you`,
  );

// Compiled code cached on disk (Node 22.1+): later starts skip parsing the bundle again.
module.enableCompileCache?.();

const here = fileURLToPath(import.meta.url);
const sources = new URL('../src/cli/bin.ts', import.meta.url);
const bundle = new URL('../build/cli/budget-gate.mjs', import.meta.url);
const installed = /[\\/]node_modules[\\/]/.test(realpathSync(here));
if (process.features?.typescript && !installed && existsSync(sources)) await import(sources.href);
else if (existsSync(bundle)) await import(bundle.href);
else
  say(
    `from a clone of the repository, budget-gate runs its TypeScript sources, which needs Node 24 (this is Node ${process.version}): run \`npm run cli -- <command>\` (it fetches Node 24), or build the bundle with \`npm run build:cli\``,
  );
