import { fileURLToPath } from 'node:url';

/** The bundled demo: the example policy and a month of `rising` telemetry ending at DEMO_END. */
export const DEMO_END = '2026-11-20T09:00:00.000Z';
export const DEMO_POLICY = fileURLToPath(new URL('../../examples/error-budget.yml', import.meta.url));
export const DEMO_TELEMETRY = fileURLToPath(
  new URL('../../examples/telemetry/demo.jsonl.gz', import.meta.url),
);
