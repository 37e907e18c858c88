import pg from 'pg';
import type { SqlDriver, SqlValue, Statement } from './driver.ts';
import { LATEST_VERSION, MIGRATIONS } from './migrations.ts';
import { SqlWatchStore } from './sql.ts';

// Several replicas, one database. A tick leases watches with FOR UPDATE SKIP LOCKED: two replicas
// claiming at the same moment get disjoint sets, and a watch whose lease ran out (its replica died
// or stalled) is claimed by the next replica that ticks. Lease times come from the replicas'
// clocks, so their skew must stay well under one lease.

/** Any number: all replicas must agree on it, so migrations run one replica at a time. */
const MIGRATION_LOCK = 7_262_551_001;

export interface PostgresStoreOptions {
  connectionString: string;
  /** Connections per replica: a tick uses one at a time, webhooks another. */
  max?: number;
  /** Where errors of idle connections go (a server restart); the pool reconnects on next use. */
  onError?: (e: Error) => void;
}

/** The statements are written with `?`; PostgreSQL wants $1, $2, … (none of ours quote a `?`). */
const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  private readonly cache = new Map<string, string>();
  readonly pool: pg.Pool;
  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  private text(sql: string): string {
    let t = this.cache.get(sql);
    if (t === undefined) {
      t = numbered(sql);
      this.cache.set(sql, t);
    }
    return t;
  }

  async run(sql: string, params: readonly SqlValue[]): Promise<number> {
    return (await this.pool.query(this.text(sql), params as SqlValue[])).rowCount ?? 0;
  }

  async all(sql: string, params: readonly SqlValue[]): Promise<unknown[]> {
    return (await this.pool.query(this.text(sql), params as SqlValue[])).rows;
  }

  async runMany(sql: string, params: readonly (readonly SqlValue[])[]): Promise<number[]> {
    return this.runAll(params.map((p) => [sql, p] as const));
  }

  /** On one client of the pool, so the statements share its transaction (and one commit). */
  async runAll(statements: readonly Statement[]): Promise<number[]> {
    if (statements.length === 0) return [];
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const changed: number[] = [];
      for (const [sql, p] of statements)
        changed.push((await client.query(this.text(sql), p as SqlValue[])).rowCount ?? 0);
      await client.query('COMMIT');
      return changed;
    } catch (e) {
      // A failed ROLLBACK means a dead connection: the server drops the transaction with it, and
      // the client is discarded rather than returned to the pool.
      await client.query('ROLLBACK').catch((r: Error) => {
        broken = r;
      });
      throw e;
    } finally {
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export class PostgresWatchStore extends SqlWatchStore {
  private constructor(driver: PostgresDriver) {
    super(driver);
  }

  static async open(opts: PostgresStoreOptions): Promise<PostgresWatchStore> {
    const pool = new pg.Pool({ connectionString: opts.connectionString, max: opts.max ?? 4 });
    // An idle client that loses its server (a restart) must not crash the process, nor go unseen.
    const onError =
      opts.onError ?? ((e: Error) => console.error(`budget-gate store: PostgreSQL pool: ${e.message}`));
    pool.on('error', onError);
    try {
      await migrate(pool);
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresWatchStore(new PostgresDriver(pool));
  }
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ v: number | null }>(
      'SELECT MAX(version) AS v FROM schema_migrations',
    );
    const current = rows[0]?.v ?? 0;
    if (current > LATEST_VERSION) {
      throw new Error(
        `the database is at schema version ${current}, newer than this bot knows (${LATEST_VERSION}): run the newer bot on every replica`,
      );
    }
    for (const m of MIGRATIONS.filter((m) => m.version > current)) {
      for (const sql of m.statements('postgres')) await client.query(sql);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
    }
    await client.query('COMMIT');
  } catch (e) {
    // The migration's own error is the news; a failed ROLLBACK (a dead connection) is said with it.
    const rollback = await client.query('ROLLBACK').then(
      () => '',
      (r: Error) => ` (and ROLLBACK failed: ${r.message})`,
    );
    throw new Error(`PostgreSQL store: migration failed: ${(e as Error).message}${rollback}`, { cause: e });
  } finally {
    client.release();
  }
}
