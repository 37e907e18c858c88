// Bundles the action into dist/index.js: one file, no node_modules at run time, fast to start.
import { build } from 'esbuild';
import { englishZod, REQUIRE_BANNER, withoutOidc } from './build-plugins.mjs';

await build({
  entryPoints: ['src/action/index.ts'],
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  outfile: 'dist/index.js',
  minify: true,
  legalComments: 'linked',
  banner: { js: REQUIRE_BANNER },
  // DDSketch's protobuf (de)serialisation is loaded lazily and never used by the gate.
  external: ['protobufjs/minimal'],
  plugins: [withoutOidc, englishZod],
  logLevel: 'warning',
});
