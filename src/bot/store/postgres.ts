import pg from 'pg';
import { COLUMNS, LATEST_VERSION, MIGRATIONS } from './migrations.ts';
import { type NewWatch, type Outcome, parseRow, type Watch, type WatchStore } from './watch.ts';

// Several replicas, one database. A tick leases watches with FOR UPDATE SKIP LOCKED: two replicas
// claiming at the same moment get disjoint sets, and a watch whose lease ran out (its replica died
// or stalled) is claimed by the next replica that ticks. Lease times come from the replicas'
// clocks, so their skew must stay well under one lease.

const LIVE = `status IN ('watching', 'reverting')`;
/** Any number: all replicas must agree on it, so migrations run one replica at a time. */
const MIGRATION_LOCK = 7_262_551_001;

export interface PostgresStoreOptions {
  connectionString: string;
  /** Connections per replica: a tick uses one at a time, webhooks another. */
  max?: number;
}

export class PostgresWatchStore implements WatchStore {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  static async open(opts: PostgresStoreOptions): Promise<PostgresWatchStore> {
    const pool = new pg.Pool({ connectionString: opts.connectionString, max: opts.max ?? 4 });
    // An idle client that loses its server (a restart) must not crash the process.
    pool.on('error', () => {});
    const store = new PostgresWatchStore(pool);
    try {
      await store.migrate();
    } catch (e) {
      await pool.end();
      throw e;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
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
      await client.query('ROLLBACK').catch(() => {});
      throw new Error(`PostgreSQL store: migration failed: ${(e as Error).message}`, { cause: e });
    } finally {
      client.release();
    }
  }

  async add(w: NewWatch, now: number): Promise<boolean> {
    const cols = [...COLUMNS, 'status', 'created_at', 'updated_at'];
    const values = [...COLUMNS.map((c) => w[c]), 'watching', now, now];
    const res = await this.pool.query(
      `INSERT INTO watches (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})
       ON CONFLICT (deployment_id) DO NOTHING`,
      values,
    );
    return res.rowCount === 1;
  }

  async supersede(
    w: Pick<Watch, 'owner' | 'repo' | 'environment' | 'deployed_at' | 'deployment_id'>,
    now: number,
  ): Promise<number> {
    const res = await this.pool.query(
      `UPDATE watches SET status = 'superseded', reason = $1, lease_owner = NULL, lease_until = NULL, updated_at = $2
       WHERE owner = $3 AND repo = $4 AND environment = $5 AND status = 'watching'
         AND deployed_at <= $6 AND deployment_id <> $7`,
      [
        `deployment ${w.deployment_id} replaced it`,
        now,
        w.owner,
        w.repo,
        w.environment,
        w.deployed_at,
        w.deployment_id,
      ],
    );
    return res.rowCount ?? 0;
  }

  async claim(replica: string, now: number, leaseMs: number, limit: number): Promise<Watch[]> {
    const res = await this.pool.query(
      `UPDATE watches SET lease_owner = $1, lease_until = $2, updated_at = $3
       WHERE deployment_id IN (
         SELECT deployment_id FROM watches
         WHERE ${LIVE} AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $3)
         ORDER BY deployed_at LIMIT $4
         FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [replica, now + leaseMs, now, limit],
    );
    return res.rows.map(parseRow).sort((a, b) => a.deployed_at - b.deployed_at);
  }

  private async held(sql: string, params: unknown[]): Promise<boolean> {
    const res = await this.pool.query(sql, params);
    return res.rowCount === 1;
  }

  checked(id: number, replica: string, now: number): Promise<boolean> {
    return this.held(
      `UPDATE watches SET last_checked_at = $1, updated_at = $1
       WHERE deployment_id = $2 AND lease_owner = $3 AND lease_until >= $1 AND status = 'watching'`,
      [now, id, replica],
    );
  }

  startRevert(id: number, replica: string, now: number, evidence: string): Promise<boolean> {
    return this.held(
      `UPDATE watches SET status = 'reverting', evidence = $4, last_checked_at = $1, updated_at = $1
       WHERE deployment_id = $2 AND lease_owner = $3 AND lease_until >= $1 AND status = 'watching'`,
      [now, id, replica, evidence],
    );
  }

  finish(id: number, replica: string, now: number, o: Outcome): Promise<boolean> {
    return this.held(
      `UPDATE watches SET status = $4, revert_pr = $5, reason = $6, lease_owner = NULL, lease_until = NULL, updated_at = $1
       WHERE deployment_id = $2 AND lease_owner = $3 AND lease_until >= $1 AND ${LIVE}`,
      [now, id, replica, o.status, o.revert_pr ?? null, o.reason],
    );
  }

  async get(id: number): Promise<Watch | null> {
    const res = await this.pool.query('SELECT * FROM watches WHERE deployment_id = $1', [id]);
    return res.rows[0] ? parseRow(res.rows[0]) : null;
  }

  async list(): Promise<Watch[]> {
    const res = await this.pool.query('SELECT * FROM watches ORDER BY deployed_at, deployment_id');
    return res.rows.map(parseRow);
  }

  async release(replica: string): Promise<void> {
    await this.pool.query(
      'UPDATE watches SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1',
      [replica],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
