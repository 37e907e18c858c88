// Bundles the CLI into build/cli/ for the packed package (`prepack`): plain JavaScript for every
// maintained Node (22 and later), no TypeScript at run time. Not committed; in a clone of the
// repository bin/budget-gate.js runs the sources on Node 24 instead.
//
// Each command is its own chunk (src/cli/main.ts imports them when run), so `lint` does not parse
// the simulator or the renderers. The chunks sit next to the entry, two folders down like
// src/<area>/<file>.ts, so `new URL('../../examples/…', import.meta.url)` finds the same files.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { englishZod, REQUIRE_BANNER, withoutOidc } from './build-plugins.mjs';

rmSync('build/cli', { recursive: true, force: true });
await build({
  entryPoints: { 'budget-gate': 'src/cli/bin.ts' },
  bundle: true,
  splitting: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  outdir: 'build/cli',
  outExtension: { '.js': '.mjs' },
  chunkNames: '[name]-[hash]',
  minify: true,
  legalComments: 'linked',
  banner: { js: REQUIRE_BANNER },
  // DDSketch's protobuf support is loaded lazily and never used; pg's native driver is optional.
  external: ['protobufjs/minimal', 'pg-native'],
  plugins: [withoutOidc, englishZod],
  logLevel: 'warning',
});
