import { join } from 'node:path';

// Node's on-disk compile cache for the processes the tests start (the bot, the Action's bundle, the
// CLI and the fuzz workers, dozens each run): a start compiles only what changed. This checkout's
// own (.cache/ is ignored by git): another checkout's run beside this one has other sources.
export const COMPILE_CACHE_ENV = {
  NODE_COMPILE_CACHE: join(import.meta.dirname, '../../.cache/node-compile'),
};
