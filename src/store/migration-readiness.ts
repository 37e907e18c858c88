// Migration 7, kept in its own file: each repository's readiness verdict as the bot last worked it
// out from its default branch (src/bot/readiness-sync.ts), one row per repository. It only adds a
// table, so it applies the same after 6 or on its own. Typed here rather than imported, so
// migrations.ts can list it without an import cycle.

type Dialect = 'sqlite' | 'postgres';

const int = (d: Dialect) => (d === 'postgres' ? 'BIGINT' : 'INTEGER');

export const READINESS_MIGRATION: { version: number; statements: (d: Dialect) => string[] } = {
  version: 7,
  statements: (d) => [
    `CREATE TABLE readiness (
      repo TEXT PRIMARY KEY,
      verdict TEXT,
      computed_at ${int(d)},
      commit_sha TEXT,
      head_etag TEXT,
      stale INTEGER NOT NULL DEFAULT 1,
      checked_at ${int(d)},
      claimed_until ${int(d)},
      error TEXT
    )`,
  ],
};
