// esbuild plugins both bundles share (the action's dist/index.js, the CLI's build/cli).
import { fileURLToPath } from 'node:url';

const httpClientStub = fileURLToPath(new URL('./stubs/actions-http-client.mjs', import.meta.url));
const zodLocalesStub = fileURLToPath(new URL('./stubs/zod-locales.mjs', import.meta.url));

/** See stubs/actions-http-client.mjs: OIDC support the action never uses. */
export const withoutOidc = {
  name: 'without-oidc',
  setup(b) {
    b.onResolve({ filter: /^@actions\/http-client(\/lib\/auth)?$/ }, () => ({ path: httpClientStub }));
  },
};

/** See stubs/zod-locales.mjs: English only. */
export const englishZod = {
  name: 'english-zod',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: zodLocalesStub } : undefined,
    );
  },
};

/** Some CommonJS dependencies call require(); an ESM bundle gives them one. */
export const REQUIRE_BANNER =
  "import { createRequire as __bgCreateRequire } from 'node:module'; const require = __bgCreateRequire(import.meta.url);";
