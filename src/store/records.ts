import { z } from 'zod';
import type { State } from '../policy/gate/decision-schema.ts';
import { type AuditRecord, auditRecordSchema } from '../policy/overrides/audit-chain.ts';
import type { SqlDriver, SqlValue } from './driver.ts';

// What the dashboard needs that the service did not store before (migration 5), written where it
// happens and only read by the pages:
// - each repository's last evaluated decision in full, with the fleet's figures beside it as
//   columns (so the fleet page is one indexed read, no JSON parsed);
// - the gate's decisions on pull requests and deploys, as its check runs recorded them (the bot
//   reads them from `check_run.completed` webhooks), and the open pull requests with the verdict
//   they stand under now, so "held" is a WHERE clause;
// - the audit log's records as the bot last read them from the audit branch, with the read's
//   ETag (an unchanged log is a free 304) and whether a push to the branch has made it stale.

const int = z.coerce.number().int();
const nullableInt = z.union([z.null(), int]);
const num = z.union([z.null(), z.coerce.number()]);
const state = z.enum(['ship', 'soft-pause', 'hard-pause']);

/** The gate's decisions, pull requests closed and audit records past this are dropped when written. */
const DECISION_RETENTION_MS = 90 * 86_400_000;

export interface RepoDecision {
  repo: string;
  at: number;
  environment: string;
  state: State;
  /** The fleet's figures of this decision (src/dashboard/fleet-row.ts), kept as columns. */
  worst_slo: string | null;
  remaining: number | null;
  burn: number | null;
  alerts: number;
  /** The Decision, as JSON. */
  decision: string;
  /** The policy's alert windows, as JSON (the dashboard's AlertWindow[]). */
  alert_windows: string;
  /** Where the figures came from: `prometheus https://…`. */
  source: string;
}

const repoDecisionSchema = z.object({
  repo: z.string(),
  at: int,
  environment: z.string(),
  state,
  worst_slo: z.string().nullable(),
  remaining: num,
  burn: num,
  alerts: int,
  decision: z.string(),
  alert_windows: z.string(),
  source: z.string(),
});

/** A fleet line: the decision's figures without the decision. */
export type FleetFigures = Omit<RepoDecision, 'decision' | 'alert_windows' | 'source'>;

export interface GateDecision {
  repo: string;
  /** The check run's id: a re-run of the gate is a new check run, so a new row. */
  check_run_id: number;
  /** When the check run completed. */
  at: number;
  sha: string;
  pull_number: number | null;
  /** From the check run's title (the decision's headline starts with the state); null when the gate could not decide (an invalid policy). */
  state: State | null;
  allowed: boolean;
  conclusion: string;
  headline: string;
  url: string | null;
}

const gateDecisionSchema = z.object({
  repo: z.string(),
  check_run_id: int,
  at: int,
  sha: z.string(),
  pull_number: nullableInt,
  state: state.nullable(),
  allowed: z.coerce.number().transform((n) => n === 1),
  conclusion: z.string(),
  headline: z.string(),
  url: z.string().nullable(),
});

export interface Pull {
  repo: string;
  number: number;
  title: string;
  author: string | null;
  open: boolean;
  head_sha: string;
}

const heldSchema = z.object({
  number: int,
  title: z.string(),
  author: z.string().nullable(),
  headline: z.string().nullable(),
  held_since: int,
  decision_at: int,
});
export type HeldPullRow = z.output<typeof heldSchema>;

const auditLogSchema = z.object({
  repo: z.string(),
  branch: z.string(),
  path: z.string(),
  etag: z.string().nullable(),
  stale: z.coerce.number().transform((n) => n === 1),
  checked_at: nullableInt,
  head_seq: int,
  error: z.string().nullable(),
});
export type AuditLogState = z.output<typeof auditLogSchema>;

const LISTED = `r.active = 1 AND (r.policy_status IS NULL OR r.policy_status = 'ok')`;

const SQL = {
  saveDecision: `INSERT INTO repo_decisions (repo, at, environment, state, worst_slo, remaining, burn, alerts, decision, alert_windows, source)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (repo) DO UPDATE SET at = excluded.at, environment = excluded.environment, state = excluded.state,
      worst_slo = excluded.worst_slo, remaining = excluded.remaining, burn = excluded.burn, alerts = excluded.alerts,
      decision = excluded.decision, alert_windows = excluded.alert_windows, source = excluded.source
    WHERE excluded.at >= repo_decisions.at`,
  // Only repositories still installed and still with a policy: one removed from the App, or whose
  // policy file was deleted, leaves the fleet (an invalid policy keeps its last decision, dated).
  fleet: `SELECT d.repo, d.at, d.environment, d.state, d.worst_slo, d.remaining, d.burn, d.alerts
    FROM repo_decisions d JOIN repos r ON r.full_name = d.repo WHERE ${LISTED}`,
  decision: `SELECT d.* FROM repo_decisions d JOIN repos r ON r.full_name = d.repo WHERE d.repo = ? AND ${LISTED}`,
  decisionAt: `SELECT d.at FROM repo_decisions d JOIN repos r ON r.full_name = d.repo WHERE d.repo = ? AND ${LISTED}`,
  gateDecision: `INSERT INTO gate_decisions (repo, check_run_id, at, sha, pull_number, state, allowed, conclusion, headline, url)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (repo, check_run_id) DO UPDATE SET at = excluded.at, sha = excluded.sha, pull_number = excluded.pull_number,
      state = excluded.state, allowed = excluded.allowed, conclusion = excluded.conclusion, headline = excluded.headline, url = excluded.url`,
  pruneDecisions: 'DELETE FROM gate_decisions WHERE repo = ? AND at < ?',
  gateDecisions: 'SELECT * FROM gate_decisions WHERE repo = ? ORDER BY at DESC, check_run_id DESC LIMIT ?',
  pull: 'SELECT * FROM pulls WHERE repo = ? AND number = ?',
  upsertPull: `INSERT INTO pulls (repo, number, title, author, open, head_sha, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (repo, number) DO UPDATE SET title = excluded.title, author = excluded.author, open = excluded.open,
      head_sha = excluded.head_sha, updated_at = excluded.updated_at
    WHERE excluded.updated_at >= pulls.updated_at`,
  // Held since the first of an unbroken run of blocking decisions; a decision that allows ends it.
  // (On the right of SET, `allowed` and `held_since` are the row's values before this update.)
  pullDecision: `UPDATE pulls SET decision_at = ?, decision_check_run = ?, headline = ?,
      held_since = CASE WHEN ? = 1 THEN NULL WHEN allowed = 0 AND held_since IS NOT NULL THEN held_since ELSE ? END,
      allowed = ?
    WHERE repo = ? AND number = ? AND (decision_at IS NULL OR decision_at <= ?)`,
  prunePulls: 'DELETE FROM pulls WHERE repo = ? AND open = 0 AND updated_at < ?',
  held: `SELECT number, title, author, headline, held_since, decision_at FROM pulls
    WHERE repo = ? AND open = 1 AND allowed = 0 ORDER BY held_since, number`,
  auditLog: 'SELECT * FROM audit_logs WHERE repo = ?',
  saveAuditLog: `INSERT INTO audit_logs (repo, branch, path, etag, stale, checked_at, head_seq, error) VALUES (?, ?, ?, ?, 0, ?, ?, ?)
    ON CONFLICT (repo) DO UPDATE SET branch = excluded.branch, path = excluded.path, etag = excluded.etag, stale = 0,
      checked_at = excluded.checked_at, head_seq = excluded.head_seq, error = excluded.error`,
  auditStale: 'UPDATE audit_logs SET stale = 1 WHERE repo = ? AND branch = ?',
  auditLogs: 'SELECT * FROM audit_logs',
  // Compare-and-set on when it was last checked: of two replicas looking at once, one reads.
  claimNewAudit: `INSERT INTO audit_logs (repo, branch, path, etag, stale, checked_at, head_seq, error)
    VALUES (?, ?, ?, NULL, 1, ?, 0, NULL) ON CONFLICT (repo) DO NOTHING`,
  claimAudit: 'UPDATE audit_logs SET checked_at = ? WHERE repo = ? AND COALESCE(checked_at, -1) = ?',
  auditHashes: 'SELECT seq, hash FROM audit_records WHERE repo = ?',
  addAudit: `INSERT INTO audit_records (repo, seq, at, kind, hash, record) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (repo, seq) DO NOTHING`,
  auditNewest: 'SELECT record FROM audit_records WHERE repo = ? ORDER BY seq DESC LIMIT ?',
  auditBetween: `SELECT record FROM audit_records WHERE repo = ? AND kind = ? AND at >= ? AND at <= ? ORDER BY seq`,
};

const parseAudit = (rows: unknown[]): AuditRecord[] =>
  (rows as Array<{ record: string }>).map((r) => auditRecordSchema.parse(JSON.parse(r.record)));

export class SqlRecords {
  private readonly db: SqlDriver;
  constructor(db: SqlDriver) {
    this.db = db;
  }

  /** The repository's newest evaluated decision; an older one arriving late changes nothing. */
  async saveDecision(d: RepoDecision): Promise<void> {
    await this.db.run(SQL.saveDecision, [
      d.repo,
      d.at,
      d.environment,
      d.state,
      d.worst_slo,
      d.remaining,
      d.burn,
      d.alerts,
      d.decision,
      d.alert_windows,
      d.source,
    ]);
  }

  /** Every line at once: coerced by hand rather than parsed, as this is read on every fleet page. */
  async fleet(): Promise<FleetFigures[]> {
    const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return ((await this.db.all(SQL.fleet, [])) as Array<Record<string, unknown>>).map((r) => ({
      repo: String(r.repo),
      at: Number(r.at),
      environment: String(r.environment),
      state: state.parse(r.state),
      worst_slo: r.worst_slo === null ? null : String(r.worst_slo),
      remaining: n(r.remaining),
      burn: n(r.burn),
      alerts: Number(r.alerts),
    }));
  }

  /** When the repository's stored decision was made; null when it has none (or is not listed). */
  async decisionAt(repo: string): Promise<number | null> {
    const [row] = (await this.db.all(SQL.decisionAt, [repo])) as Array<{ at: unknown }>;
    return row ? Number(row.at) : null;
  }

  async decision(repo: string): Promise<RepoDecision | null> {
    const [row] = await this.db.all(SQL.decision, [repo]);
    return row ? repoDecisionSchema.parse(row) : null;
  }

  /** A check run of the gate, once; then what is past retention is dropped. */
  async recordGateDecision(d: GateDecision): Promise<void> {
    await this.db.run(SQL.gateDecision, [
      d.repo,
      d.check_run_id,
      d.at,
      d.sha,
      d.pull_number,
      d.state,
      d.allowed ? 1 : 0,
      d.conclusion,
      d.headline,
      d.url,
    ]);
    await this.db.run(SQL.pruneDecisions, [d.repo, d.at - DECISION_RETENTION_MS]);
    await this.db.run(SQL.prunePulls, [d.repo, d.at - DECISION_RETENTION_MS]);
  }

  async gateDecisions(repo: string, limit: number): Promise<GateDecision[]> {
    return (await this.db.all(SQL.gateDecisions, [repo, limit])).map((r) => gateDecisionSchema.parse(r));
  }

  async pull(repo: string, number: number): Promise<Pull | null> {
    const [row] = (await this.db.all(SQL.pull, [repo, number])) as Array<Record<string, unknown>>;
    if (!row) return null;
    return {
      repo,
      number,
      title: String(row.title),
      author: row.author === null ? null : String(row.author),
      open: Number(row.open) === 1,
      head_sha: String(row.head_sha),
    };
  }

  /** The pull request as GitHub last said (an event or an answer at `at`); an older word changes nothing. */
  async savePull(p: Pull, at: number): Promise<void> {
    await this.db.run(SQL.upsertPull, [p.repo, p.number, p.title, p.author, p.open ? 1 : 0, p.head_sha, at]);
  }

  /** The verdict the pull request stands under now, unless a newer one is already recorded. */
  async pullDecision(
    repo: string,
    number: number,
    d: { check_run_id: number; at: number; allowed: boolean; headline: string },
  ): Promise<boolean> {
    const allowed = d.allowed ? 1 : 0;
    const params: SqlValue[] = [d.at, d.check_run_id, d.headline, allowed, d.at, allowed, repo, number, d.at];
    return (await this.db.run(SQL.pullDecision, params)) === 1;
  }

  async held(repo: string): Promise<HeldPullRow[]> {
    return (await this.db.all(SQL.held, [repo])).map((r) => heldSchema.parse(r));
  }

  async auditLog(repo: string): Promise<AuditLogState | null> {
    const [row] = await this.db.all(SQL.auditLog, [repo]);
    return row ? auditLogSchema.parse(row) : null;
  }

  async saveAuditLog(s: Omit<AuditLogState, 'stale'>): Promise<void> {
    await this.db.run(SQL.saveAuditLog, [
      s.repo,
      s.branch,
      s.path,
      s.etag,
      s.checked_at,
      s.head_seq,
      s.error,
    ]);
  }

  async auditLogs(): Promise<AuditLogState[]> {
    return (await this.db.all(SQL.auditLogs, [])).map((r) => auditLogSchema.parse(r));
  }

  /**
   * Takes the next read of a repository's log: true for the one replica whose write found the
   * state it last saw (`seen`: null when there was no row); the others leave it to that one.
   */
  async claimAudit(
    repo: string,
    audit: { branch: string; path: string },
    seen: AuditLogState | null,
    now: number,
  ): Promise<boolean> {
    if (!seen) return (await this.db.run(SQL.claimNewAudit, [repo, audit.branch, audit.path, now])) === 1;
    return (await this.db.run(SQL.claimAudit, [now, repo, seen.checked_at ?? -1])) === 1;
  }

  /** A push to the audit branch: read the log again (conditionally) before it is next used. */
  async auditPushed(repo: string, branch: string): Promise<boolean> {
    return (await this.db.run(SQL.auditStale, [repo, branch])) > 0;
  }

  /**
   * Records not seen before are added; a record whose sequence number is stored with another hash
   * means the log was rewritten since it was read: those are reported and the stored one is kept.
   */
  async addAuditRecords(
    repo: string,
    records: readonly AuditRecord[],
  ): Promise<{ added: AuditRecord[]; rewritten: number[] }> {
    const known = new Map(
      ((await this.db.all(SQL.auditHashes, [repo])) as Array<{ seq: unknown; hash: string }>).map((r) => [
        Number(r.seq),
        r.hash,
      ]),
    );
    const added: AuditRecord[] = [];
    const rewritten: number[] = [];
    for (const r of records) {
      const hash = known.get(r.seq);
      if (hash !== undefined) {
        if (hash !== r.hash) rewritten.push(r.seq);
        continue;
      }
      const at = Date.parse(r.at);
      await this.db.run(SQL.addAudit, [
        repo,
        r.seq,
        Number.isFinite(at) ? at : 0,
        r.kind,
        r.hash,
        JSON.stringify(r),
      ]);
      added.push(r);
    }
    return { added, rewritten };
  }

  async auditNewest(repo: string, limit: number): Promise<AuditRecord[]> {
    return parseAudit(await this.db.all(SQL.auditNewest, [repo, limit]));
  }

  async auditBetween(
    repo: string,
    kind: AuditRecord['kind'],
    from: number,
    to: number,
  ): Promise<AuditRecord[]> {
    return parseAudit(await this.db.all(SQL.auditBetween, [repo, kind, from, to]));
  }
}
