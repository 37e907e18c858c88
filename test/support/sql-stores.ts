import { afterAll, beforeAll } from 'vitest';
import { PostgresWatchStore } from '../../src/store/postgres.ts';
import type { SqlWatchStore } from '../../src/store/sql.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { type RunningPostgres, startPostgres } from './postgres.ts';

/**
 * The bot's two stores for a `describe.each`: an in-memory SQLite, and a fresh database per name on
 * a real PostgreSQL that this file starts once and stops after its tests.
 */
export function sqlStoreDrivers(): Array<[string, (name: string) => Promise<SqlWatchStore>]> {
  let pg: RunningPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });
  return [
    ['SQLite', async () => new SqliteWatchStore(':memory:')],
    [
      'PostgreSQL',
      async (name) => PostgresWatchStore.open({ connectionString: await pg.createDatabase(name) }),
    ],
  ];
}
