import { z } from 'zod';
import type { WatchEvidence } from '../policy/canary/ports.ts';
import { type FiringAlert, firingAlertSchema, type State } from '../policy/gate/decision-schema.ts';
import type { SqlDriver, SqlValue } from './driver.ts';

// The always-on service's part of the store: every installed repository, leased to one replica at
// a time like a watch, with its policy text and ETag (shared by all replicas, so one conditional
// read serves them all); the history of its evaluations; and each watch's evidence minute by minute.
//
// A repository is due once per interval: `next_due_at` is the start of the next cell of the
// interval's grid, advanced in the same guarded write that ends the lease. A replica that dies
// mid-evaluation never advanced it, so the next replica to claim after the lease runs out
// evaluates that cell; one that finished advanced it, so nobody evaluates the cell twice.

const int = z.coerce.number().int();
const nullableInt = z.union([z.null(), int]);

const repoRowSchema = z.object({
  full_name: z.string(),
  owner: z.string(),
  repo: z.string(),
  installation_id: int,
  default_branch: z.string(),
  active: z.coerce.number().transform((n) => n === 1),
  policy_text: z.string().nullable(),
  policy_etag: z.string().nullable(),
  /** ok: text is the policy; none: no file at the path; null: never read. */
  policy_status: z.enum(['ok', 'none']).nullable(),
  policy_checked_at: nullableInt,
  /** A push to the default branch since the last read: read again (conditionally) before use. */
  policy_stale: z.coerce.number().transform((n) => n === 1),
  next_due_at: int,
  lease_owner: z.string().nullable(),
  lease_until: nullableInt,
  last_evaluated_at: nullableInt,
  last_success_at: nullableInt,
  last_error: z.string().nullable(),
  /** The state of the last evaluation that read telemetry: a change re-checks held pull requests. */
  last_state: z.enum(['ship', 'soft-pause', 'hard-pause']).nullable(),
});
export type RepoRow = z.output<typeof repoRowSchema>;

export interface InstalledRepo {
  owner: string;
  repo: string;
  installation_id: number;
  default_branch: string;
}

/** An SLO's figures at one evaluation: what a dashboard plots (the burn chart series is left out). */
const sloFiguresSchema = z.object({
  name: z.string(),
  state: z.enum(['ship', 'soft-pause', 'hard-pause']),
  events: z.number().nullable(),
  bad: z.number().nullable(),
  consumed: z.number().nullable(),
  remaining: z.number().nullable(),
  burn_rates: z.record(z.string(), z.number().nullable()),
  insufficient_data: z.boolean(),
});
export type SloFigures = z.output<typeof sloFiguresSchema>;

const RESOLUTIONS = { minute: 60_000, hour: 3_600_000 } as const;
export type Resolution = keyof typeof RESOLUTIONS;

export interface EvaluationRecord {
  repo: string;
  at: number;
  replica: string;
  state: State;
  slos: SloFigures[];
  alerts: FiringAlert[];
  /** The telemetry could not be read (the state is what on_telemetry_error says). */
  error: string | null;
}

export interface StoredEvaluation extends EvaluationRecord {
  resolution: Resolution;
  bucket: number;
  /** The worst state seen in the bucket (an hour keeps its worst minute, not its last). */
  worst: State;
}

/** Minute rows for a day; hour rows for the longest SLO window (computed per repository). */
export interface Retention {
  minuteMs: number;
  hourMs: number;
}
export const MINUTE_RETENTION_MS = 24 * 3_600_000;

const STATES: State[] = ['ship', 'soft-pause', 'hard-pause'];

const REPO_HELD = 'full_name = ? AND lease_owner = ? AND lease_until >= ?';
const greatest = (d: SqlDriver['dialect']) => (d === 'postgres' ? 'GREATEST' : 'MAX');

const REPO_SQL = {
  upsert: `INSERT INTO repos (full_name, owner, repo, installation_id, default_branch, active, next_due_at, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)
    ON CONFLICT (full_name) DO UPDATE SET installation_id = excluded.installation_id,
      default_branch = excluded.default_branch, active = 1, updated_at = excluded.updated_at,
      policy_stale = CASE WHEN repos.default_branch <> excluded.default_branch THEN 1 ELSE repos.policy_stale END`,
  deactivate: `UPDATE repos SET active = 0, updated_at = ? WHERE installation_id = ? AND active = 1`,
  invalidate: 'UPDATE repos SET policy_stale = 1, updated_at = ? WHERE full_name = ?',
  claim: (d: SqlDriver['dialect']) => `UPDATE repos SET lease_owner = ?, lease_until = ?, updated_at = ?
    WHERE full_name IN (
      SELECT full_name FROM repos
      WHERE active = 1 AND next_due_at <= ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)
      ORDER BY next_due_at, full_name LIMIT ?${d === 'postgres' ? '\n      FOR UPDATE SKIP LOCKED' : ''})
    RETURNING *`,
  savePolicy: `UPDATE repos SET policy_text = ?, policy_etag = ?, policy_status = ?, policy_checked_at = ?,
      policy_stale = 0, updated_at = ?
    WHERE ${REPO_HELD}`,
  complete: `UPDATE repos SET next_due_at = ?, last_evaluated_at = ?,
      last_success_at = CASE WHEN ? = 1 THEN ? ELSE last_success_at END, last_error = ?,
      last_state = COALESCE(?, last_state),
      lease_owner = NULL, lease_until = NULL, updated_at = ?
    WHERE ${REPO_HELD}`,
  renew: 'UPDATE repos SET lease_until = ? WHERE lease_owner = ? AND lease_until >= ?',
  release: 'UPDATE repos SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?',
  get: 'SELECT * FROM repos WHERE full_name = ?',
  list: 'SELECT * FROM repos ORDER BY full_name',
  record: (d: SqlDriver['dialect']) => `INSERT INTO evaluations
      (repo, resolution, bucket, at, replica, state, worst_rank, slos, alerts, error)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (repo, resolution, bucket) DO UPDATE SET at = excluded.at, replica = excluded.replica,
      state = excluded.state, slos = excluded.slos, alerts = excluded.alerts, error = excluded.error,
      worst_rank = ${greatest(d)}(evaluations.worst_rank, excluded.worst_rank)
    WHERE excluded.at >= evaluations.at`,
  prune: `DELETE FROM evaluations WHERE repo = ? AND
    ((resolution = 'minute' AND at < ?) OR (resolution = 'hour' AND at < ?))`,
  history: `SELECT * FROM evaluations WHERE repo = ? AND resolution = ? AND at >= ? ORDER BY bucket`,
  figures: `SELECT at, slos FROM evaluations WHERE repo = ? AND resolution = ? AND at >= ? ORDER BY bucket`,
  evidence: `INSERT INTO watch_evidence (deployment_id, minute, at, evidence) VALUES (?, ?, ?, ?)
    ON CONFLICT (deployment_id, minute) DO UPDATE SET at = excluded.at, evidence = excluded.evidence`,
  evidenceOf: 'SELECT * FROM watch_evidence WHERE deployment_id = ? ORDER BY minute',
  evidenceOfMany: (n: number) =>
    `SELECT * FROM watch_evidence WHERE deployment_id IN (${Array(n).fill('?').join(', ')}) ORDER BY deployment_id, minute`,
};

const evaluationRowSchema = z.object({
  repo: z.string(),
  resolution: z.enum(['minute', 'hour']),
  bucket: int,
  at: int,
  replica: z.string(),
  state: z.enum(['ship', 'soft-pause', 'hard-pause']),
  worst_rank: int,
  slos: z.string(),
  alerts: z.string(),
  error: z.string().nullable(),
});

/** The service's store over any SqlDriver; SqlWatchStore exposes one as `service`. */
export class SqlRepoStore {
  private readonly db: SqlDriver;
  constructor(db: SqlDriver) {
    this.db = db;
  }

  /** The installation's repositories as GitHub lists them now: new ones are due at once; the rest go inactive. */
  async sync(installationId: number, repos: InstalledRepo[], now: number): Promise<void> {
    // One transaction: a reader (another replica's claim, the dashboard) never sees the
    // installation's repositories switched off between the two, and a crash leaves them as they were.
    await this.db.runAll([
      [REPO_SQL.deactivate, [now, installationId]],
      ...repos.map(
        (r) =>
          [
            REPO_SQL.upsert,
            [`${r.owner}/${r.repo}`, r.owner, r.repo, r.installation_id, r.default_branch, now, now, now],
          ] as const,
      ),
    ]);
  }

  /** A push to the default branch: the next evaluation reads the policy again first. */
  async invalidatePolicy(fullName: string, now: number): Promise<void> {
    await this.db.run(REPO_SQL.invalidate, [now, fullName]);
  }

  async claim(replica: string, now: number, leaseMs: number, limit: number): Promise<RepoRow[]> {
    const rows = await this.db.all(REPO_SQL.claim(this.db.dialect), [
      replica,
      now + leaseMs,
      now,
      now,
      replica,
      now,
      limit,
    ]);
    return rows.map((r) => repoRowSchema.parse(r)).sort((a, b) => a.next_due_at - b.next_due_at);
  }

  async savePolicy(
    fullName: string,
    replica: string,
    now: number,
    p: { text: string | null; etag: string | null },
  ): Promise<boolean> {
    const status = p.text === null ? 'none' : 'ok';
    const n = await this.db.run(REPO_SQL.savePolicy, [
      p.text,
      p.etag,
      status,
      now,
      now,
      fullName,
      replica,
      now,
    ]);
    return n === 1;
  }

  /** Ends the lease and schedules the next cell; false when the lease was lost (another replica has it). */
  async complete(
    fullName: string,
    replica: string,
    now: number,
    nextDueAt: number,
    error: string | null,
    state: State | null = null,
  ): Promise<boolean> {
    const ok = error === null ? 1 : 0;
    const n = await this.db.run(REPO_SQL.complete, [
      nextDueAt,
      now,
      ok,
      now,
      error,
      state,
      now,
      fullName,
      replica,
      now,
    ]);
    return n === 1;
  }

  renew(replica: string, now: number, leaseMs: number): Promise<number> {
    return this.db.run(REPO_SQL.renew, [now + leaseMs, replica, now]);
  }

  async release(replica: string): Promise<void> {
    await this.db.run(REPO_SQL.release, [replica]);
  }

  async get(fullName: string): Promise<RepoRow | null> {
    const [row] = await this.db.all(REPO_SQL.get, [fullName]);
    return row ? repoRowSchema.parse(row) : null;
  }

  async list(): Promise<RepoRow[]> {
    return (await this.db.all(REPO_SQL.list, [])).map((r) => repoRowSchema.parse(r));
  }

  /** Written at both resolutions, then what is past retention is dropped. */
  async record(e: EvaluationRecord, retention: Retention): Promise<void> {
    const rank = STATES.indexOf(e.state);
    for (const [resolution, ms] of Object.entries(RESOLUTIONS) as Array<[Resolution, number]>) {
      const params: SqlValue[] = [
        e.repo,
        resolution,
        Math.floor(e.at / ms),
        e.at,
        e.replica,
        e.state,
        rank,
        JSON.stringify(e.slos),
        JSON.stringify(e.alerts),
        e.error,
      ];
      await this.db.run(REPO_SQL.record(this.db.dialect), params);
    }
    await this.db.run(REPO_SQL.prune, [e.repo, e.at - retention.minuteMs, e.at - retention.hourMs]);
  }

  async history(repo: string, resolution: Resolution, since: number): Promise<StoredEvaluation[]> {
    const rows = await this.db.all(REPO_SQL.history, [repo, resolution, since]);
    return rows.map((raw) => {
      const r = evaluationRowSchema.parse(raw);
      return {
        repo: r.repo,
        at: r.at,
        replica: r.replica,
        state: r.state,
        slos: z.array(sloFiguresSchema).parse(JSON.parse(r.slos)),
        alerts: z.array(firingAlertSchema).parse(JSON.parse(r.alerts)),
        error: r.error,
        resolution: r.resolution,
        bucket: r.bucket,
        worst: STATES[r.worst_rank] ?? 'hard-pause',
      };
    });
  }

  /**
   * Each stored evaluation's SLO figures since `since`, oldest first: the dashboard's history of a
   * repository's budgets and burn. Read on page loads, so the rows this store wrote are trusted as
   * JSON and not validated again one by one.
   */
  async figures(
    repo: string,
    resolution: Resolution,
    since: number,
  ): Promise<Array<{ at: number; slos: SloFigures[] }>> {
    const rows = (await this.db.all(REPO_SQL.figures, [repo, resolution, since])) as Array<{
      at: unknown;
      slos: string;
    }>;
    return rows.map((r) => ({ at: Number(r.at), slos: z.array(sloFiguresSchema).parse(JSON.parse(r.slos)) }));
  }

  /**
   * Watches' evidence at one check each, kept per minute for as long as the watch row is; one
   * transaction: a tick's writes, one commit.
   */
  async recordEvidenceMany(rows: readonly WatchEvidence[]): Promise<void> {
    await this.db.runMany(
      REPO_SQL.evidence,
      rows.map((r) => [r.id, Math.floor(r.at / RESOLUTIONS.minute), r.at, r.evidence]),
    );
  }

  async evidenceOf(deploymentId: number): Promise<Array<{ minute: number; at: number; evidence: string }>> {
    const rows = (await this.db.all(REPO_SQL.evidenceOf, [deploymentId])) as Array<Record<string, unknown>>;
    return rows.map((r) => ({ minute: Number(r.minute), at: Number(r.at), evidence: String(r.evidence) }));
  }

  /** Several watches' evidence in one read: deployment id → its minutes, oldest first. */
  async evidenceOfMany(
    ids: readonly number[],
  ): Promise<Map<number, Array<{ at: number; evidence: string }>>> {
    const out = new Map<number, Array<{ at: number; evidence: string }>>(ids.map((id) => [id, []]));
    if (ids.length === 0) return out;
    const rows = (await this.db.all(REPO_SQL.evidenceOfMany(ids.length), ids)) as Array<
      Record<string, unknown>
    >;
    for (const r of rows)
      out.get(Number(r.deployment_id))?.push({ at: Number(r.at), evidence: String(r.evidence) });
    return out;
  }
}
