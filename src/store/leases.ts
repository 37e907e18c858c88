import { z } from 'zod';
import type { SqlDriver } from './driver.ts';

// Work done once for the whole fleet rather than once per replica — repository discovery — leased
// like a repository: one row per task (`leases`, migration 6), due at `next_due_at`, held by one
// replica until `lease_until`. The claim is one guarded UPDATE, so of two replicas claiming at the
// same instant exactly one gets it (PostgreSQL re-checks the WHERE of the second after the first
// commits; SQLite has one writer). The write that ends the run moves `next_due_at` under the same
// guard: a replica that dies mid-run never moved it, so once its lease runs out the next replica
// to look runs the task at once; one that finished moved it, so nobody runs it again this interval.

const int = z.coerce.number().int();
const nullableInt = z.union([z.null(), int]);

const leaseRowSchema = z.object({
  name: z.string(),
  lease_owner: z.string().nullable(),
  lease_until: nullableInt,
  next_due_at: int,
  last_run_at: nullableInt,
  last_owner: z.string().nullable(),
  last_error: z.string().nullable(),
});
export type LeaseRow = z.output<typeof leaseRowSchema>;

const HELD = 'name = ? AND lease_owner = ? AND lease_until >= ?';

const LEASE_SQL = {
  // A task nobody ran yet is due at once.
  ensure: `INSERT INTO leases (name, next_due_at, updated_at) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING`,
  claim: `UPDATE leases SET lease_owner = ?, lease_until = ?, updated_at = ?
    WHERE name = ? AND next_due_at <= ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)`,
  renew: `UPDATE leases SET lease_until = ?, updated_at = ? WHERE ${HELD}`,
  complete: `UPDATE leases SET next_due_at = ?, last_run_at = ?, last_owner = lease_owner, last_error = ?,
      lease_owner = NULL, lease_until = NULL, updated_at = ?
    WHERE ${HELD}`,
  // A clean shutdown hands the task back without moving next_due_at: the next replica runs it now.
  release: 'UPDATE leases SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?',
  get: 'SELECT * FROM leases WHERE name = ?',
};

/** The store's fleet-wide task leases; SqlWatchStore exposes one as `leases`. */
export class SqlLeaseStore {
  private readonly db: SqlDriver;
  constructor(db: SqlDriver) {
    this.db = db;
  }

  /** True when the task is due and this replica now holds it (free, expired, or already its own). */
  async claim(name: string, replica: string, now: number, leaseMs: number): Promise<boolean> {
    await this.db.run(LEASE_SQL.ensure, [name, now]);
    const n = await this.db.run(LEASE_SQL.claim, [replica, now + leaseMs, now, name, now, replica, now]);
    return n === 1;
  }

  /** Extends the lease; false when it was lost (it ran out and another replica may hold it). */
  async renew(name: string, replica: string, now: number, leaseMs: number): Promise<boolean> {
    return (await this.db.run(LEASE_SQL.renew, [now + leaseMs, now, name, replica, now])) === 1;
  }

  /** Ends the run and schedules the next; false when the lease was lost meanwhile. */
  async complete(
    name: string,
    replica: string,
    now: number,
    nextDueAt: number,
    error: string | null,
  ): Promise<boolean> {
    const n = await this.db.run(LEASE_SQL.complete, [nextDueAt, now, error, now, name, replica, now]);
    return n === 1;
  }

  async release(replica: string): Promise<void> {
    await this.db.run(LEASE_SQL.release, [replica]);
  }

  async get(name: string): Promise<LeaseRow | null> {
    const [row] = await this.db.all(LEASE_SQL.get, [name]);
    return row ? leaseRowSchema.parse(row) : null;
  }
}
