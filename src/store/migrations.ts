// Schema versions, applied in order on start by both stores. A migration is never edited once
// released: a change is a new entry. `int` is INTEGER in SQLite and BIGINT in PostgreSQL, since
// epoch milliseconds and deployment ids outgrow PostgreSQL's 32-bit INTEGER.

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  statements: (d: Dialect) => string[];
}

const int = (d: Dialect) => (d === 'postgres' ? 'BIGINT' : 'INTEGER');

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    statements: (d) => [
      `CREATE TABLE watches (
        deployment_id ${int(d)} PRIMARY KEY,
        owner TEXT NOT NULL,
        repo TEXT NOT NULL,
        installation_id ${int(d)} NOT NULL,
        environment TEXT NOT NULL,
        sha TEXT NOT NULL,
        previous_sha TEXT,
        previous_deployment_id ${int(d)},
        default_branch TEXT NOT NULL,
        deployed_at ${int(d)} NOT NULL,
        pull_number ${int(d)},
        pull_title TEXT,
        policy_text TEXT NOT NULL,
        policy_path TEXT NOT NULL,
        status TEXT NOT NULL,
        last_checked_at ${int(d)},
        evidence TEXT,
        revert_pr ${int(d)},
        reason TEXT,
        lease_owner TEXT,
        lease_until ${int(d)},
        created_at ${int(d)} NOT NULL,
        updated_at ${int(d)} NOT NULL
      )`,
      'CREATE INDEX watches_live ON watches (status, lease_until)',
      'CREATE INDEX watches_env ON watches (owner, repo, environment, status)',
    ],
  },
  {
    // Resumable, bounded reverts (see revert-progress.ts).
    version: 2,
    statements: (d) => [
      'ALTER TABLE watches ADD COLUMN revert_attempts INTEGER NOT NULL DEFAULT 0',
      `ALTER TABLE watches ADD COLUMN revert_next_at ${int(d)}`,
      'ALTER TABLE watches ADD COLUMN revert_progress TEXT',
      'ALTER TABLE watches ADD COLUMN last_error TEXT',
    ],
  },
  {
    // Webhook deliveries whose handler completed: recovery asks GitHub again for the rest, even
    // when GitHub recorded them as delivered (Probot answers 202 to a handler still running).
    version: 3,
    statements: (d) => [
      `CREATE TABLE deliveries (
        guid TEXT PRIMARY KEY,
        event TEXT NOT NULL,
        handled_at ${int(d)} NOT NULL
      )`,
      'CREATE INDEX deliveries_handled ON deliveries (handled_at)',
    ],
  },
];

export const LATEST_VERSION = MIGRATIONS.at(-1)!.version;

export const COLUMNS = [
  'deployment_id',
  'owner',
  'repo',
  'installation_id',
  'environment',
  'sha',
  'previous_sha',
  'previous_deployment_id',
  'default_branch',
  'deployed_at',
  'pull_number',
  'pull_title',
  'policy_text',
  'policy_path',
] as const;
