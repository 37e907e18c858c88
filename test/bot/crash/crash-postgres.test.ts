import { afterAll, beforeAll, describe, it } from 'vitest';
import { type RunningPostgres, startPostgres } from '../../support/postgres.ts';
import { expectCrashMatrix } from './matrix.ts';

// The crash matrix of crash-sqlite.test.ts on a real PostgreSQL: a fresh database per run.

let pg: RunningPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

describe('crash matrix, PostgreSQL', () => {
  it('a revert killed after any of its GitHub requests ends exactly as an uninterrupted one', async () => {
    let n = 0;
    await expectCrashMatrix(() => pg.createDatabase(`crash_${n++}`));
  }, 300_000);
});
