import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { COLUMNS, LATEST_VERSION, MIGRATIONS } from './migrations.ts';
import { type NewWatch, type Outcome, parseRow, type Watch, type WatchStore } from './watch.ts';

// The embedded default: one file, one process. Leases work as in PostgreSQL, so a restarted
// process (a new replica id) takes its predecessor's watches over once their lease runs out, or at
// once when the predecessor released them on a clean shutdown.

const LIVE = `status IN ('watching', 'reverting')`;
const HELD = 'deployment_id = ? AND lease_owner = ? AND lease_until >= ?';

export class SqliteWatchStore implements WatchStore {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  private readonly db: DatabaseSync;

  constructor(path: string) {
    this.path = path;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;');
    this.migrate();
  }

  private migrate(): void {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
    );
    const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
      v: number | null;
    };
    const current = row.v ?? 0;
    if (current > LATEST_VERSION) {
      throw new Error(
        `${this.path}: the store is at schema version ${current}, newer than this bot knows (${LATEST_VERSION}): run the newer bot, or point BUDGET_GATE_STORE at a new file`,
      );
    }
    for (const m of MIGRATIONS.filter((m) => m.version > current)) {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        for (const sql of m.statements('sqlite')) this.db.exec(sql);
        this.db
          .prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)')
          .run(m.version, new Date().toISOString());
        this.db.exec('COMMIT');
      } catch (e) {
        this.db.exec('ROLLBACK');
        throw new Error(`${this.path}: migration ${m.version} failed: ${(e as Error).message}`, { cause: e });
      }
    }
  }

  async add(w: NewWatch, now: number): Promise<boolean> {
    const cols = [...COLUMNS, 'status', 'created_at', 'updated_at'];
    const values: SQLInputValue[] = [...COLUMNS.map((c) => w[c]), 'watching', now, now];
    const res = this.db
      .prepare(
        `INSERT INTO watches (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})
         ON CONFLICT (deployment_id) DO NOTHING`,
      )
      .run(...values);
    return Number(res.changes) === 1;
  }

  async supersede(
    w: Pick<Watch, 'owner' | 'repo' | 'environment' | 'deployed_at' | 'deployment_id'>,
    now: number,
  ): Promise<number> {
    const res = this.db
      .prepare(
        `UPDATE watches SET status = 'superseded', reason = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
         WHERE owner = ? AND repo = ? AND environment = ? AND status = 'watching'
           AND deployed_at <= ? AND deployment_id <> ?`,
      )
      .run(
        `deployment ${w.deployment_id} replaced it`,
        now,
        w.owner,
        w.repo,
        w.environment,
        w.deployed_at,
        w.deployment_id,
      );
    return Number(res.changes);
  }

  async claim(replica: string, now: number, leaseMs: number, limit: number): Promise<Watch[]> {
    const rows = this.db
      .prepare(
        `UPDATE watches SET lease_owner = ?, lease_until = ?, updated_at = ?
         WHERE deployment_id IN (
           SELECT deployment_id FROM watches
           WHERE ${LIVE} AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)
           ORDER BY deployed_at LIMIT ?)
         RETURNING *`,
      )
      .all(replica, now + leaseMs, now, replica, now, limit);
    return rows.map(parseRow).sort((a, b) => a.deployed_at - b.deployed_at);
  }

  async checked(id: number, replica: string, now: number): Promise<boolean> {
    const res = this.db
      .prepare(`UPDATE watches SET last_checked_at = ?, updated_at = ? WHERE ${HELD} AND status = 'watching'`)
      .run(now, now, id, replica, now);
    return Number(res.changes) === 1;
  }

  async startRevert(id: number, replica: string, now: number, evidence: string): Promise<boolean> {
    const res = this.db
      .prepare(
        `UPDATE watches SET status = 'reverting', evidence = ?, last_checked_at = ?, updated_at = ?
         WHERE ${HELD} AND status = 'watching'`,
      )
      .run(evidence, now, now, id, replica, now);
    return Number(res.changes) === 1;
  }

  async finish(id: number, replica: string, now: number, o: Outcome): Promise<boolean> {
    const res = this.db
      .prepare(
        `UPDATE watches SET status = ?, revert_pr = ?, reason = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
         WHERE ${HELD} AND ${LIVE}`,
      )
      .run(o.status, o.revert_pr ?? null, o.reason, now, id, replica, now);
    return Number(res.changes) === 1;
  }

  async get(id: number): Promise<Watch | null> {
    const row = this.db.prepare('SELECT * FROM watches WHERE deployment_id = ?').get(id);
    return row ? parseRow(row) : null;
  }

  async list(): Promise<Watch[]> {
    return this.db.prepare('SELECT * FROM watches ORDER BY deployed_at, deployment_id').all().map(parseRow);
  }

  async release(replica: string): Promise<void> {
    this.db
      .prepare('UPDATE watches SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?')
      .run(replica);
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}
