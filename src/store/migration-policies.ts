// Migration 8, kept in its own file: a watch's policy text moves out of its row into a table of
// texts keyed by their SHA-256, which the row names. A policy is kilobytes and the same for every
// deploy of a repository's revision, while a tick rewrites each live row twice (its lease, its
// check): in SQLite the text made every row span overflow pages, so each of those writes copied
// the whole text through the log again (50 µs a watch, a tenth of it once the row is small).
// Rows written before this migration keep their text in `policy_text` (policy_hash NULL) and are
// read as before; new rows leave `policy_text` empty. Typed here rather than imported, so
// migrations.ts can list it without an import cycle.

type Dialect = 'sqlite' | 'postgres';

const int = (d: Dialect) => (d === 'postgres' ? 'BIGINT' : 'INTEGER');

export const POLICIES_MIGRATION: { version: number; statements: (d: Dialect) => string[] } = {
  version: 8,
  statements: (d) => [
    `CREATE TABLE watch_policies (
      hash TEXT PRIMARY KEY,
      text TEXT NOT NULL,
      created_at ${int(d)} NOT NULL
    )`,
    'ALTER TABLE watches ADD COLUMN policy_hash TEXT',
  ],
};
