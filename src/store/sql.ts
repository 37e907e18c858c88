import type { NewWatch, Outcome, Watch, WatchEvidence, WatchStore } from '../policy/canary/ports.ts';
import type { SqlDriver, SqlValue } from './driver.ts';
import { SqlIncidentStore, SqlLedger } from './incidents.ts';
import { SqlLeaseStore } from './leases.ts';
import { COLUMNS, type Dialect } from './migrations.ts';
import { SqlReadinessStore } from './readiness.ts';
import { SqlRecords } from './records.ts';
import { SqlRepoStore } from './repos.ts';
import { SqlWatchPolicies } from './watch-policies.ts';
import { readWatch } from './watch-row.ts';

// The watch store's SQL, written once: SQLite (3.35+) and PostgreSQL agree on UPDATE … RETURNING,
// INSERT … ON CONFLICT DO NOTHING and subqueries in UPDATE, so each statement is one string with
// `?` placeholders, which the PostgreSQL driver numbers ($1, $2, …). The one place the dialects
// differ in meaning is the claim: PostgreSQL's FOR UPDATE SKIP LOCKED keeps two replicas claiming
// at the same instant from blocking on, or double-taking, the same rows; SQLite has one writer.

const LIVE = `status IN ('watching', 'reverting')`;
/** The lease guard every write on a claimed watch carries: the replica still holds it, now. */
const HELD = 'deployment_id = ? AND lease_owner = ? AND lease_until >= ?';
const INSERT_COLUMNS = [...COLUMNS, 'policy_hash', 'status', 'created_at', 'updated_at'];

const SQL = {
  add: `INSERT INTO watches (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')})
    ON CONFLICT (deployment_id) DO NOTHING`,
  supersede: `UPDATE watches SET status = 'superseded', reason = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
    WHERE owner = ? AND repo = ? AND environment = ? AND status = 'watching'
      AND deployed_at <= ? AND deployment_id <> ?`,
  claim: (d: Dialect) => `UPDATE watches SET lease_owner = ?, lease_until = ?, updated_at = ?
    WHERE deployment_id IN (
      SELECT deployment_id FROM watches
      WHERE ${LIVE} AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)
      ORDER BY deployed_at LIMIT ?${d === 'postgres' ? '\n      FOR UPDATE SKIP LOCKED' : ''})
    RETURNING *`,
  checked: `UPDATE watches SET last_checked_at = ?, updated_at = ? WHERE ${HELD} AND status = 'watching'`,
  startRevert: `UPDATE watches SET status = 'reverting', evidence = ?, last_checked_at = ?, updated_at = ?,
      revert_attempts = 0, revert_next_at = NULL, revert_progress = NULL, last_error = NULL
    WHERE ${HELD} AND status = 'watching'`,
  finish: `UPDATE watches SET status = ?, revert_pr = ?, reason = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
    WHERE ${HELD} AND ${LIVE}`,
  beginAttempt: `UPDATE watches SET revert_attempts = revert_attempts + 1, lease_until = ?, updated_at = ?
    WHERE ${HELD} AND status = 'reverting'
    RETURNING revert_attempts`,
  saveProgress: `UPDATE watches SET revert_progress = ?, lease_until = ?, updated_at = ?
    WHERE ${HELD} AND status = 'reverting'`,
  retryLater: `UPDATE watches SET revert_next_at = ?, last_error = ?, updated_at = ?
    WHERE ${HELD} AND status = 'reverting'`,
  renew: `UPDATE watches SET lease_until = ? WHERE lease_owner = ? AND lease_until >= ? AND ${LIVE}`,
  get: 'SELECT * FROM watches WHERE deployment_id = ?',
  list: 'SELECT * FROM watches ORDER BY deployed_at, deployment_id',
  ofRepo:
    'SELECT * FROM watches WHERE owner = ? AND repo = ? ORDER BY deployed_at DESC, deployment_id DESC LIMIT ?',
  release: 'UPDATE watches SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?',
  ping: 'SELECT 1 AS ok',
  deliveryHandled: `INSERT INTO deliveries (guid, event, handled_at) VALUES (?, ?, ?)
    ON CONFLICT (guid) DO UPDATE SET handled_at = excluded.handled_at`,
  handledDeliveries: 'SELECT guid FROM deliveries WHERE handled_at >= ?',
};

/** The WatchStore over any SqlDriver; sqlite.ts and postgres.ts only connect and migrate. */
export class SqlWatchStore implements WatchStore {
  readonly kind: Dialect;
  protected readonly db: SqlDriver;
  /** The always-on service's repositories, evaluation history and watch evidence, in the same database. */
  readonly service: SqlRepoStore;
  /** On-call's ledger (what was paged and posted) and the service's incidents. */
  readonly ledger: SqlLedger;
  readonly incidents: SqlIncidentStore;
  /** What the dashboard reads beyond those: decisions, pull requests held, the audit log as read. */
  readonly records: SqlRecords;
  /** Fleet-wide tasks (repository discovery), each run by one replica at a time. */
  readonly leases: SqlLeaseStore;
  /** Each repository's readiness verdict, worked out from its default branch. */
  readonly readiness: SqlReadinessStore;
  private readonly policies: SqlWatchPolicies;

  constructor(db: SqlDriver) {
    this.db = db;
    this.kind = db.dialect;
    this.service = new SqlRepoStore(db);
    this.ledger = new SqlLedger(db);
    this.incidents = new SqlIncidentStore(db);
    this.records = new SqlRecords(db);
    this.leases = new SqlLeaseStore(db);
    this.readiness = new SqlReadinessStore(db);
    this.policies = new SqlWatchPolicies(db);
  }

  recordEvidenceMany(rows: readonly WatchEvidence[]): Promise<void> {
    return this.service.recordEvidenceMany(rows);
  }

  /** The policy's text goes to watch_policies; the row names it by hash and keeps '' in policy_text. */
  async add(w: NewWatch, now: number): Promise<boolean> {
    const hash = await this.policies.save(w.policy_text, now);
    const values = COLUMNS.map((c) => (c === 'policy_text' ? '' : w[c]));
    return (await this.db.run(SQL.add, [...values, hash, 'watching', now, now])) === 1;
  }

  supersede(
    w: Pick<Watch, 'owner' | 'repo' | 'environment' | 'deployed_at' | 'deployment_id'>,
    now: number,
  ): Promise<number> {
    return this.db.run(SQL.supersede, [
      `deployment ${w.deployment_id} replaced it`,
      now,
      w.owner,
      w.repo,
      w.environment,
      w.deployed_at,
      w.deployment_id,
    ]);
  }

  async claim(replica: string, now: number, leaseMs: number, limit: number): Promise<Watch[]> {
    const rows = await this.db.all(SQL.claim(this.kind), [replica, now + leaseMs, now, replica, now, limit]);
    return (await this.watches(rows)).sort((a, b) => a.deployed_at - b.deployed_at);
  }

  /** Rows as watches, each with its policy's text (looked up once per hash, not read per row). */
  private async watches(rows: unknown[]): Promise<Watch[]> {
    const out: Watch[] = [];
    for (const row of rows as Array<Record<string, unknown>>) {
      const hash = row.policy_hash;
      out.push(readWatch(row, typeof hash === 'string' ? await this.policies.text(hash) : undefined));
    }
    return out;
  }

  async deliveryHandled(guid: string, event: string, now: number): Promise<void> {
    await this.db.run(SQL.deliveryHandled, [guid, event, now]);
  }

  async handledDeliveries(since: number): Promise<Set<string>> {
    const rows = (await this.db.all(SQL.handledDeliveries, [since])) as Array<{ guid: string }>;
    return new Set(rows.map((r) => r.guid));
  }

  private async one(sql: string, params: readonly SqlValue[]): Promise<boolean> {
    return (await this.db.run(sql, params)) === 1;
  }

  async checkedMany(ids: readonly number[], replica: string, now: number): Promise<boolean[]> {
    const changed = await this.db.runMany(
      SQL.checked,
      ids.map((id) => [now, now, id, replica, now]),
    );
    return changed.map((n) => n === 1);
  }

  startRevert(id: number, replica: string, now: number, evidence: string): Promise<boolean> {
    return this.one(SQL.startRevert, [evidence, now, now, id, replica, now]);
  }

  finish(id: number, replica: string, now: number, o: Outcome): Promise<boolean> {
    return this.one(SQL.finish, [o.status, o.revert_pr ?? null, o.reason, now, id, replica, now]);
  }

  async beginAttempt(id: number, replica: string, now: number, leaseMs: number): Promise<number | null> {
    const rows = (await this.db.all(SQL.beginAttempt, [now + leaseMs, now, id, replica, now])) as Array<{
      revert_attempts: number | string;
    }>;
    return rows[0] ? Number(rows[0].revert_attempts) : null;
  }

  saveProgress(
    id: number,
    replica: string,
    now: number,
    leaseMs: number,
    progress: string,
  ): Promise<boolean> {
    return this.one(SQL.saveProgress, [progress, now + leaseMs, now, id, replica, now]);
  }

  retryLater(id: number, replica: string, now: number, nextAt: number, error: string): Promise<boolean> {
    return this.one(SQL.retryLater, [nextAt, error, now, id, replica, now]);
  }

  renew(replica: string, now: number, leaseMs: number): Promise<number> {
    return this.db.run(SQL.renew, [now + leaseMs, replica, now]);
  }

  async get(id: number): Promise<Watch | null> {
    const [w] = await this.watches(await this.db.all(SQL.get, [id]));
    return w ?? null;
  }

  async list(): Promise<Watch[]> {
    return this.watches(await this.db.all(SQL.list, []));
  }

  /** A repository's newest watches, newest first (the dashboard's deployments page). */
  async ofRepo(owner: string, repo: string, limit: number): Promise<Watch[]> {
    return this.watches(await this.db.all(SQL.ofRepo, [owner, repo, limit]));
  }

  async release(replica: string): Promise<void> {
    await this.db.run(SQL.release, [replica]);
    await this.service.release(replica);
    await this.leases.release(replica);
  }

  async ping(): Promise<void> {
    await this.db.all(SQL.ping, []);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
