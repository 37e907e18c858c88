import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type LedgerEntry, ledgerEntrySchema, type NotifyLedger } from '../policy/oncall/ports.ts';
import type { SqlDriver } from './driver.ts';

// On-call's records in the store, shared by every replica: the notify ledger (the NotifyLedger
// port: what was paged and posted, once each) and the incidents the always-on service opens, one
// per repository, SLO and alert while it fires. Every write is one targeted UPDATE, never a
// read-modify-write of the whole row: the evaluator (under the repository's lease) and the
// webhooks (an acknowledgement, on any replica) write the same incident without losing each other's
// fields. The timeline is append-only rows.

const int = z.coerce.number().int();
const nullableInt = z.union([z.null(), int]);

const incidentSchema = z.object({
  key: z.string(),
  opened_at: int,
  repo: z.string(),
  installation_id: int,
  slo: z.string(),
  alert: z.string(),
  severity: z.enum(['sev1', 'sev2', 'sev3']),
  /** drill: a test page (budget-gate drill), acknowledged like a page and never escalated. */
  action: z.enum(['page', 'ticket', 'drill']),
  last_firing_at: int,
  /** Not firing since this evaluation; null while it fires. */
  clear_since: nullableInt,
  acked_at: nullableInt,
  acked_by: z.string().nullable(),
  /** An acknowledged incident that recovered: noted, left for the acknowledger to close. */
  recovered_at: nullableInt,
  resolved_at: nullableInt,
  resolved_by: z.string().nullable(),
  issue_number: nullableInt,
  /** open: the incident issue exists; disabled: the repository has issues off (410). */
  issue_state: z.enum(['open', 'closed', 'disabled']).nullable(),
  /** Timeline events the issue body shows: it is edited only when there are more. */
  issue_events: int,
  /** Escalation steps taken (0: only the primary was paged). */
  escalation_step: int,
  escalated_at: nullableInt,
});
export type Incident = z.output<typeof incidentSchema>;

export interface TimelineEvent {
  at: number;
  kind: string;
  text: string;
}

export type NewIncident = Pick<
  Incident,
  'key' | 'repo' | 'installation_id' | 'slo' | 'alert' | 'severity' | 'action'
>;

const ONE = 'key = ? AND opened_at = ?';

const SQL = {
  ledgerGet: 'SELECT * FROM notify_ledger WHERE key = ?',
  ledgerPut: `INSERT INTO notify_ledger (key, repo, kind, severity, raised_at, paged, posted, resolved_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET repo = excluded.repo, kind = excluded.kind, severity = excluded.severity,
      raised_at = excluded.raised_at, paged = excluded.paged, posted = excluded.posted, resolved_at = excluded.resolved_at`,
  ledgerOpen: 'SELECT * FROM notify_ledger WHERE repo = ? AND resolved_at IS NULL ORDER BY key',
  open: `INSERT INTO incidents (key, opened_at, repo, installation_id, slo, alert, severity, action, last_firing_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key, opened_at) DO NOTHING`,
  openFor: 'SELECT * FROM incidents WHERE repo = ? AND resolved_at IS NULL ORDER BY opened_at, key',
  allOpen: 'SELECT * FROM incidents WHERE resolved_at IS NULL ORDER BY opened_at, key',
  get: `SELECT * FROM incidents WHERE ${ONE}`,
  byIssue: 'SELECT * FROM incidents WHERE repo = ? AND issue_number = ? ORDER BY opened_at DESC',
  byKey: 'SELECT * FROM incidents WHERE key = ? ORDER BY opened_at DESC',
  closedElsewhere: `SELECT * FROM incidents WHERE repo = ? AND resolved_at IS NOT NULL AND issue_state = 'open' ORDER BY opened_at`,
  firing: `UPDATE incidents SET last_firing_at = ?, clear_since = NULL, recovered_at = NULL WHERE ${ONE} AND resolved_at IS NULL`,
  clear: `UPDATE incidents SET clear_since = ? WHERE ${ONE} AND resolved_at IS NULL AND clear_since IS NULL`,
  ack: `UPDATE incidents SET acked_at = ?, acked_by = ? WHERE ${ONE} AND resolved_at IS NULL AND acked_at IS NULL`,
  recovered: `UPDATE incidents SET recovered_at = ? WHERE ${ONE} AND resolved_at IS NULL AND recovered_at IS NULL`,
  resolve: `UPDATE incidents SET resolved_at = ?, resolved_by = ? WHERE ${ONE} AND resolved_at IS NULL`,
  issue: `UPDATE incidents SET issue_number = ?, issue_state = ?, issue_events = ? WHERE ${ONE}`,
  escalate: `UPDATE incidents SET escalation_step = ?, escalated_at = ? WHERE ${ONE} AND escalation_step = ? AND resolved_at IS NULL AND acked_at IS NULL`,
  event: 'INSERT INTO incident_events (id, key, opened_at, at, kind, text) VALUES (?, ?, ?, ?, ?, ?)',
  eventOnce: `INSERT INTO incident_events (id, key, opened_at, at, kind, text) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO NOTHING`,
  ofRepo: 'SELECT * FROM incidents WHERE repo = ? ORDER BY opened_at DESC, key LIMIT ?',
  timelinesOf: `SELECT key, opened_at, at, kind, text FROM incident_events
    WHERE key IN (SELECT key FROM incidents WHERE repo = ? AND opened_at >= ?) AND opened_at >= ?
    ORDER BY at, id`,
  timeline: 'SELECT at, kind, text FROM incident_events WHERE key = ? AND opened_at = ? ORDER BY at, id',
  between: `SELECT * FROM incidents WHERE (? = '' OR repo = ?) AND opened_at <= ? AND (resolved_at IS NULL OR resolved_at >= ?)
    ORDER BY opened_at, key`,
};

const ledgerRow = z.object({
  key: z.string(),
  repo: z.string(),
  kind: z.string(),
  severity: z.string(),
  raised_at: int,
  paged: z.string(),
  posted: z.string(),
  resolved_at: nullableInt,
});

const toEntry = (raw: unknown): LedgerEntry => {
  const r = ledgerRow.parse(raw);
  return ledgerEntrySchema.parse({ ...r, paged: JSON.parse(r.paged), posted: JSON.parse(r.posted) });
};

export class SqlLedger implements NotifyLedger {
  private readonly db: SqlDriver;
  constructor(db: SqlDriver) {
    this.db = db;
  }
  async get(key: string): Promise<LedgerEntry | null> {
    const [row] = await this.db.all(SQL.ledgerGet, [key]);
    return row ? toEntry(row) : null;
  }
  async put(e: LedgerEntry): Promise<void> {
    await this.db.run(SQL.ledgerPut, [
      e.key,
      e.repo,
      e.kind,
      e.severity,
      e.raised_at,
      JSON.stringify(e.paged),
      JSON.stringify(e.posted),
      e.resolved_at,
    ]);
  }
  async open(repo: string): Promise<LedgerEntry[]> {
    return (await this.db.all(SQL.ledgerOpen, [repo])).map(toEntry);
  }
}

type Ref = Pick<Incident, 'key' | 'opened_at'>;

export class SqlIncidentStore {
  private readonly db: SqlDriver;
  constructor(db: SqlDriver) {
    this.db = db;
  }

  private async one(sql: string, params: Array<string | number | null>): Promise<boolean> {
    return (await this.db.run(sql, params)) === 1;
  }

  async open(i: NewIncident, at: number): Promise<Incident> {
    await this.db.run(SQL.open, [
      i.key,
      at,
      i.repo,
      i.installation_id,
      i.slo,
      i.alert,
      i.severity,
      i.action,
      at,
    ]);
    return (await this.get({ key: i.key, opened_at: at }))!;
  }

  async get(r: Ref): Promise<Incident | null> {
    const [row] = await this.db.all(SQL.get, [r.key, r.opened_at]);
    return row ? incidentSchema.parse(row) : null;
  }

  async openFor(repo: string): Promise<Incident[]> {
    return (await this.db.all(SQL.openFor, [repo])).map((r) => incidentSchema.parse(r));
  }

  async allOpen(): Promise<Incident[]> {
    return (await this.db.all(SQL.allOpen, [])).map((r) => incidentSchema.parse(r));
  }

  async byIssue(repo: string, issue: number): Promise<Incident | null> {
    const [row] = await this.db.all(SQL.byIssue, [repo, issue]);
    return row ? incidentSchema.parse(row) : null;
  }

  /** The latest incident with this dedup key (PagerDuty's webhooks name it). */
  async byKey(key: string): Promise<Incident | null> {
    const [row] = await this.db.all(SQL.byKey, [key]);
    return row ? incidentSchema.parse(row) : null;
  }

  /** Resolved (by a person, in PagerDuty or on GitHub) while their issue is still open. */
  async closedElsewhere(repo: string): Promise<Incident[]> {
    return (await this.db.all(SQL.closedElsewhere, [repo])).map((r) => incidentSchema.parse(r));
  }

  firing(r: Ref, at: number): Promise<boolean> {
    return this.one(SQL.firing, [at, r.key, r.opened_at]);
  }
  clear(r: Ref, at: number): Promise<boolean> {
    return this.one(SQL.clear, [at, r.key, r.opened_at]);
  }
  /** True when this call recorded the acknowledgement (the first one wins). */
  ack(r: Ref, at: number, by: string): Promise<boolean> {
    return this.one(SQL.ack, [at, by, r.key, r.opened_at]);
  }
  recovered(r: Ref, at: number): Promise<boolean> {
    return this.one(SQL.recovered, [at, r.key, r.opened_at]);
  }
  resolve(r: Ref, at: number, by: string): Promise<boolean> {
    return this.one(SQL.resolve, [at, by, r.key, r.opened_at]);
  }
  setIssue(r: Ref, issue: number | null, state: Incident['issue_state'], events: number): Promise<boolean> {
    return this.one(SQL.issue, [issue, state, events, r.key, r.opened_at]);
  }
  /** Moves from step `from` to `from + 1`; false when another replica did, or it was acknowledged. */
  escalate(r: Ref, from: number, at: number): Promise<boolean> {
    return this.one(SQL.escalate, [from + 1, at, r.key, r.opened_at, from]);
  }

  /** Every incident (drills too) open at some time in [from, to], of one repository or all (''): history. */
  async between(repo: string, from: number, to: number): Promise<Incident[]> {
    return (await this.db.all(SQL.between, [repo, repo, to, from])).map((r) => incidentSchema.parse(r));
  }

  async note(r: Ref, e: TimelineEvent): Promise<void> {
    // Events of one instant come from one evaluation on one replica: its monotonic clock orders them.
    const id = `${process.hrtime.bigint().toString().padStart(20, '0')}-${randomUUID().slice(0, 8)}`;
    await this.db.run(SQL.event, [id, r.key, r.opened_at, e.at, e.kind, e.text]);
  }

  /**
   * An event that has a name of its own (an audit record's use), written once however often it is
   * noted: every evaluation may note it again, and only the first write counts.
   */
  async noteOnce(r: Ref, id: string, e: TimelineEvent): Promise<boolean> {
    return (await this.db.run(SQL.eventOnce, [id, r.key, r.opened_at, e.at, e.kind, e.text])) === 1;
  }

  /** The repository's newest incidents, each with its timeline, in two reads. */
  async ofRepo(repo: string, limit: number): Promise<Array<Incident & { timeline: TimelineEvent[] }>> {
    const incidents = (await this.db.all(SQL.ofRepo, [repo, limit])).map((r) => incidentSchema.parse(r));
    if (incidents.length === 0) return [];
    const oldest = Math.min(...incidents.map((i) => i.opened_at));
    const rows = (await this.db.all(SQL.timelinesOf, [repo, oldest, oldest])) as Array<
      Record<string, unknown>
    >;
    const byRef = new Map(incidents.map((i) => [`${i.key}\u0000${i.opened_at}`, [] as TimelineEvent[]]));
    for (const x of rows) {
      const list = byRef.get(`${String(x.key)}\u0000${Number(x.opened_at)}`);
      list?.push({ at: Number(x.at), kind: String(x.kind), text: String(x.text) });
    }
    return incidents.map((i) => ({ ...i, timeline: byRef.get(`${i.key}\u0000${i.opened_at}`) ?? [] }));
  }

  async timeline(r: Ref): Promise<TimelineEvent[]> {
    const rows = (await this.db.all(SQL.timeline, [r.key, r.opened_at])) as Array<Record<string, unknown>>;
    return rows.map((x) => ({ at: Number(x.at), kind: String(x.kind), text: String(x.text) }));
  }
}
