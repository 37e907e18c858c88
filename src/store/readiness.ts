import { z } from 'zod';
import type { SqlDriver } from './driver.ts';

// Each repository's readiness verdict as the bot last worked it out from its default branch
// (`readiness`, migration 7): the verdict's JSON, when and from which commit it was computed, the
// ETag of the branch head's last read (so an unchanged branch is a free 304), whether a push to the
// default branch made it stale, and a short claim so two replicas do not both read the files.

const int = z.coerce.number().int();
const nullableInt = z.union([z.null(), int]);

const rowSchema = z.object({
  repo: z.string(),
  verdict: z.string().nullable(),
  computed_at: nullableInt,
  commit_sha: z.string().nullable(),
  head_etag: z.string().nullable(),
  stale: z.coerce.number().transform((n) => n !== 0),
  checked_at: nullableInt,
  claimed_until: nullableInt,
  error: z.string().nullable(),
});
export type ReadinessRow = z.output<typeof rowSchema>;

const SQL = {
  ensure: 'INSERT INTO readiness (repo) VALUES (?) ON CONFLICT (repo) DO NOTHING',
  // The claim is one guarded UPDATE: of two replicas claiming at once exactly one changes the row.
  claim: `UPDATE readiness SET claimed_until = ?
    WHERE repo = ? AND (claimed_until IS NULL OR claimed_until < ?)`,
  checked: `UPDATE readiness SET head_etag = ?, stale = 0, checked_at = ?, claimed_until = NULL, error = ?
    WHERE repo = ?`,
  save: `UPDATE readiness SET verdict = ?, computed_at = ?, commit_sha = ?, head_etag = ?, stale = 0,
      checked_at = ?, claimed_until = NULL, error = NULL
    WHERE repo = ?`,
  moved: `UPDATE readiness SET commit_sha = ?, head_etag = ?, stale = 0, checked_at = ?, claimed_until = NULL, error = NULL
    WHERE repo = ?`,
  stale: 'UPDATE readiness SET stale = 1 WHERE repo = ?',
  get: 'SELECT * FROM readiness WHERE repo = ?',
  all: 'SELECT * FROM readiness ORDER BY repo',
};

/** The stored readiness verdicts; SqlWatchStore exposes one as `readiness`. */
export class SqlReadinessStore {
  private readonly db: SqlDriver;
  constructor(db: SqlDriver) {
    this.db = db;
  }

  /** True when this replica now holds the repository's read until `now + leaseMs`. */
  async claim(repo: string, now: number, leaseMs: number): Promise<boolean> {
    await this.db.run(SQL.ensure, [repo]);
    return (await this.db.run(SQL.claim, [now + leaseMs, repo, now])) === 1;
  }

  /** The branch was looked at and nothing was recomputed (unchanged, or an error, which is kept). */
  async checked(repo: string, etag: string | null, now: number, error: string | null): Promise<void> {
    await this.db.run(SQL.checked, [etag, now, error, repo]);
  }

  /** A verdict computed from commit `sha` (a JSON string: the dashboard parses it). */
  async save(repo: string, verdict: string, sha: string, etag: string | null, now: number): Promise<void> {
    await this.db.run(SQL.save, [verdict, now, sha, etag, now, repo]);
  }

  /** The branch moved to `sha` without touching what readiness reads: the verdict stands. */
  async moved(repo: string, sha: string, etag: string | null, now: number): Promise<void> {
    await this.db.run(SQL.moved, [sha, etag, now, repo]);
  }

  /** A push to the default branch: look again at the next round. */
  async pushed(repo: string): Promise<boolean> {
    return (await this.db.run(SQL.stale, [repo])) > 0;
  }

  async get(repo: string): Promise<ReadinessRow | null> {
    const [row] = await this.db.all(SQL.get, [repo]);
    return row ? rowSchema.parse(row) : null;
  }

  async all(): Promise<ReadinessRow[]> {
    return (await this.db.all(SQL.all, [])).map((r) => rowSchema.parse(r));
  }
}

const HISTORY_MS = 90 * 86_400_000;

/**
 * What the store's incidents say for readiness: acknowledged pages and drills, and how often each
 * alert fired over the last 90 days. Shared by `budget-gate readiness --store` and the bot.
 */
export function incidentEvidence(
  incidents: ReadonlyArray<{
    acked_at: number | null;
    acked_by: string | null;
    action: string;
    alert: string;
    opened_at: number;
  }>,
  at: number,
  everyRepository: boolean,
): {
  acks: Array<{ at: number; by: string; source: string }>;
  firing: { counts: Record<string, number>; source: string };
} {
  const acks: Array<{ at: number; by: string; source: string }> = [];
  for (const i of incidents)
    if (i.acked_at !== null && i.acked_by)
      acks.push({
        at: i.acked_at,
        by: i.acked_by,
        source: `the bot's store, ${i.action === 'drill' ? 'a drill' : `incident ${i.alert}`}`,
      });
  const counts: Record<string, number> = {};
  for (const i of incidents)
    if (i.action !== 'drill' && i.opened_at >= at - HISTORY_MS) counts[i.alert] = (counts[i.alert] ?? 0) + 1;
  return {
    acks,
    firing: { counts, source: `the bot's store, last 90 days${everyRepository ? ', every repository' : ''}` },
  };
}

export const READINESS_HISTORY_MS = HISTORY_MS;
