// Bundles the action into dist/index.js: one file, no node_modules at run time, fast to start.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const httpClientStub = fileURLToPath(new URL('./stubs/actions-http-client.mjs', import.meta.url));
const zodLocalesStub = fileURLToPath(new URL('./stubs/zod-locales.mjs', import.meta.url));

/** See stubs/actions-http-client.mjs: OIDC support the action never uses. */
const withoutOidc = {
  name: 'without-oidc',
  setup(b) {
    b.onResolve({ filter: /^@actions\/http-client(\/lib\/auth)?$/ }, () => ({ path: httpClientStub }));
  },
};

/** See stubs/zod-locales.mjs: English only. */
const englishZod = {
  name: 'english-zod',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: zodLocalesStub } : undefined,
    );
  },
};

await build({
  entryPoints: ['src/action/index.ts'],
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  outfile: 'dist/index.js',
  minify: true,
  legalComments: 'linked',
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __bgCreateRequire } from 'node:module'; const require = __bgCreateRequire(import.meta.url);",
  },
  // DDSketch's protobuf (de)serialisation is loaded lazily and never used by the gate.
  external: ['protobufjs/minimal'],
  plugins: [withoutOidc, englishZod],
  logLevel: 'warning',
});
