import { run } from './start.ts';

// `npm run bot`.
run().catch((e: Error) => {
  console.error(`budget-gate bot: ${e.message}`);
  process.exit(1);
});
