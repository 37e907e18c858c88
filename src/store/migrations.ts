import { LEASES_MIGRATION } from './migration-leases.ts';
import { POLICIES_MIGRATION } from './migration-policies.ts';
import { READINESS_MIGRATION } from './migration-readiness.ts';

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
  {
    // The always-on service (src/bot/evaluator.ts): installed repositories leased like watches, the
    // history of their evaluations, and each watch's evidence minute by minute.
    version: 4,
    statements: (d) => [
      `CREATE TABLE repos (
        full_name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        repo TEXT NOT NULL,
        installation_id ${int(d)} NOT NULL,
        default_branch TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        policy_text TEXT,
        policy_etag TEXT,
        policy_status TEXT,
        policy_checked_at ${int(d)},
        policy_stale INTEGER NOT NULL DEFAULT 1,
        next_due_at ${int(d)} NOT NULL,
        lease_owner TEXT,
        lease_until ${int(d)},
        last_evaluated_at ${int(d)},
        last_success_at ${int(d)},
        last_error TEXT,
        last_state TEXT,
        created_at ${int(d)} NOT NULL,
        updated_at ${int(d)} NOT NULL
      )`,
      'CREATE INDEX repos_due ON repos (active, next_due_at)',
      `CREATE TABLE evaluations (
        repo TEXT NOT NULL,
        resolution TEXT NOT NULL,
        bucket ${int(d)} NOT NULL,
        at ${int(d)} NOT NULL,
        replica TEXT NOT NULL,
        state TEXT NOT NULL,
        worst_rank INTEGER NOT NULL,
        slos TEXT NOT NULL,
        alerts TEXT NOT NULL,
        error TEXT,
        PRIMARY KEY (repo, resolution, bucket)
      )`,
      `CREATE TABLE watch_evidence (
        deployment_id ${int(d)} NOT NULL,
        minute ${int(d)} NOT NULL,
        at ${int(d)} NOT NULL,
        evidence TEXT NOT NULL,
        PRIMARY KEY (deployment_id, minute)
      )`,
      // On-call's ledger (src/policy/oncall/ports.ts): what was paged and posted, once each.
      `CREATE TABLE notify_ledger (
        key TEXT PRIMARY KEY,
        repo TEXT NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        raised_at ${int(d)} NOT NULL,
        paged TEXT NOT NULL,
        posted TEXT NOT NULL,
        resolved_at ${int(d)}
      )`,
      'CREATE INDEX notify_ledger_open ON notify_ledger (repo, resolved_at)',
      // One incident per repository, SLO and alert while it fires (src/bot/alerting.ts); the
      // timeline is append-only rows, so webhooks and the evaluator never overwrite each other.
      `CREATE TABLE incidents (
        key TEXT NOT NULL,
        opened_at ${int(d)} NOT NULL,
        repo TEXT NOT NULL,
        installation_id ${int(d)} NOT NULL,
        slo TEXT NOT NULL,
        alert TEXT NOT NULL,
        severity TEXT NOT NULL,
        action TEXT NOT NULL,
        last_firing_at ${int(d)} NOT NULL,
        clear_since ${int(d)},
        acked_at ${int(d)},
        acked_by TEXT,
        recovered_at ${int(d)},
        resolved_at ${int(d)},
        resolved_by TEXT,
        issue_number ${int(d)},
        issue_state TEXT,
        issue_events INTEGER NOT NULL DEFAULT 0,
        escalation_step INTEGER NOT NULL DEFAULT 0,
        escalated_at ${int(d)},
        PRIMARY KEY (key, opened_at)
      )`,
      'CREATE INDEX incidents_open ON incidents (repo, resolved_at)',
      `CREATE TABLE incident_events (
        id TEXT PRIMARY KEY,
        key TEXT NOT NULL,
        opened_at ${int(d)} NOT NULL,
        at ${int(d)} NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL
      )`,
      'CREATE INDEX incident_events_of ON incident_events (key, opened_at, at)',
    ],
  },
  {
    // What the dashboard reads that nothing stored before (src/store/records.ts): each repository's
    // last decision in full with its fleet figures, the gate's decisions on pull requests (from its
    // check runs), the open pull requests and the verdict they stand under, and the audit log's
    // records as the bot last read them from the audit branch.
    version: 5,
    statements: (d) => [
      `CREATE TABLE repo_decisions (
        repo TEXT PRIMARY KEY,
        at ${int(d)} NOT NULL,
        environment TEXT NOT NULL,
        state TEXT NOT NULL,
        worst_slo TEXT,
        remaining DOUBLE PRECISION,
        burn DOUBLE PRECISION,
        alerts INTEGER NOT NULL,
        decision TEXT NOT NULL,
        alert_windows TEXT NOT NULL,
        source TEXT NOT NULL
      )`,
      `CREATE TABLE gate_decisions (
        repo TEXT NOT NULL,
        check_run_id ${int(d)} NOT NULL,
        at ${int(d)} NOT NULL,
        sha TEXT NOT NULL,
        pull_number ${int(d)},
        state TEXT,
        allowed INTEGER NOT NULL,
        conclusion TEXT NOT NULL,
        headline TEXT NOT NULL,
        url TEXT,
        PRIMARY KEY (repo, check_run_id)
      )`,
      'CREATE INDEX gate_decisions_at ON gate_decisions (repo, at)',
      `CREATE TABLE pulls (
        repo TEXT NOT NULL,
        number ${int(d)} NOT NULL,
        title TEXT NOT NULL,
        author TEXT,
        open INTEGER NOT NULL,
        head_sha TEXT NOT NULL,
        updated_at ${int(d)} NOT NULL,
        decision_at ${int(d)},
        decision_check_run ${int(d)},
        allowed INTEGER,
        headline TEXT,
        held_since ${int(d)},
        PRIMARY KEY (repo, number)
      )`,
      'CREATE INDEX pulls_held ON pulls (repo, open, allowed)',
      `CREATE TABLE audit_records (
        repo TEXT NOT NULL,
        seq ${int(d)} NOT NULL,
        at ${int(d)} NOT NULL,
        kind TEXT NOT NULL,
        hash TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (repo, seq)
      )`,
      'CREATE INDEX audit_records_at ON audit_records (repo, at)',
      `CREATE TABLE audit_logs (
        repo TEXT PRIMARY KEY,
        branch TEXT NOT NULL,
        path TEXT NOT NULL,
        etag TEXT,
        stale INTEGER NOT NULL DEFAULT 1,
        checked_at ${int(d)},
        head_seq ${int(d)} NOT NULL DEFAULT 0,
        error TEXT
      )`,
      'CREATE INDEX incidents_of ON incidents (repo, opened_at)',
    ],
  },
  // 6: fleet-wide tasks leased to one replica (repository discovery), in its own file.
  LEASES_MIGRATION,
  // 7: each repository's readiness verdict, worked out by the bot (src/bot/readiness-sync.ts).
  READINESS_MIGRATION,
  // 8: watches' policy texts in a table of their own, named by hash from the (small) rows.
  POLICIES_MIGRATION,
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
