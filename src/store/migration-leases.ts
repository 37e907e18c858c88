// Migration 6, kept in its own file: leases on work done by one replica at a time for the whole
// fleet (repository discovery), one row per task. Version 5 is the dashboard's store
// (migrations.ts); this one only adds a table, so it applies the same after it or on its own.
// Typed here rather than imported, so migrations.ts can list it without an import cycle.

type Dialect = 'sqlite' | 'postgres';

const int = (d: Dialect) => (d === 'postgres' ? 'BIGINT' : 'INTEGER');

export const LEASES_MIGRATION: { version: number; statements: (d: Dialect) => string[] } = {
  version: 6,
  statements: (d) => [
    `CREATE TABLE leases (
      name TEXT PRIMARY KEY,
      lease_owner TEXT,
      lease_until ${int(d)},
      next_due_at ${int(d)} NOT NULL,
      last_run_at ${int(d)},
      last_owner TEXT,
      last_error TEXT,
      updated_at ${int(d)} NOT NULL
    )`,
  ],
};
