import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { Watch } from '../policy/canary/ports.ts';
import { type Decision, decisionSchema } from '../policy/gate/decision-schema.ts';
import { type Readiness, readinessSchema } from '../policy/readiness/verdict.ts';
import { loadPolicy, PolicyError } from '../policy/spec/load.ts';
import type { Policy } from '../policy/spec/schema.ts';
import type { SloFigures } from '../store/repos.ts';
import type { SqlWatchStore } from '../store/sql.ts';
import { oncallView } from './figures.ts';
import {
  alertWindowSchema,
  type Capabilities,
  type DashboardStore,
  type EvidenceMinute,
  type FleetRow,
  type HistoryView,
  type OncallView,
  type RepoName,
  type RepositoryView,
  type SloTrend,
  type WatchView,
} from './ports.ts';

// The dashboard's port over the bot's store (SQLite or PostgreSQL alike): every figure is a row the
// bot wrote when it evaluated, watched, read a check run or the audit log — the fleet is one read of
// the decisions' figure columns, a repository its last decision and its evaluations' history, and
// so on. Nothing is evaluated here. What a page load does beyond reading is parse the JSON the rows
// hold and shape it for the page; the parsed decision and history of a repository are kept until
// its next evaluation is stored, so a warm page is a few indexed reads.
//
// On-call is the one page computed at load: who is on call *now* is the stored policy's rotation at
// the current time (the policy is parsed once per revision). The readiness verdict is the one the
// bot worked out from the default branch's files (src/bot/readiness-sync.ts), as stored.

/** How much each page shows: the newest of each. */
const PAGE_LIMITS = { watches: 20, decisions: 200, audit: 200, incidents: 50 } as const;

type Store = Pick<SqlWatchStore, 'service' | 'records' | 'incidents' | 'ofRepo'> &
  Partial<Pick<SqlWatchStore, 'readiness'>>;

export interface SqlDashboardOptions {
  /** Where the policy lives in each repository (the bot's BUDGET_GATE_POLICY_PATH), for its messages. */
  policyPath: string;
  clock?: () => number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The burn over the pace lookback, as the fleet takes it: 1d when the policy has it, else the longest. */
function pace(rates: Record<string, number | null>): { lookback: string; value: number | null } | null {
  const entries = Object.entries(rates);
  const preferred = entries.find(([k]) => k === '1d') ?? entries.at(-1);
  return preferred ? { lookback: preferred[0], value: preferred[1] } : null;
}

const minuteSchema = z.object({
  breach: z.boolean().optional(),
  slos: z.array(
    z.object({
      slo: z.string(),
      status: z.enum(['revert', 'watching', 'clear', 'inconclusive']),
      burn_low: z.number().nullable(),
      burn_high: z.number().nullable(),
      line_burn: z.number().nullable(),
      post: z.object({
        events: z.number().nullable(),
        bad: z.number().nullable(),
        ratio: z.number().nullable(),
      }),
      baseline_ratio: z.number().nullable(),
    }),
  ),
});
type Minute = z.output<typeof minuteSchema>;

/** The revert's evidence (src/bot/evidence.ts): only what the page says about the verdict. */
const breachSchema = z.object({
  slo: z.string(),
  verdict: z
    .object({ rules: z.array(z.string()), confidence: z.number() })
    .nullable()
    .default(null),
});

const STATUS_RANK = { revert: 3, watching: 2, inconclusive: 1, clear: 0 } as const;

/** A watch that ran its course without a revert is `kept`; the rest say what the store says. */
const watchStatus = (s: Watch['status']) => (s === 'expired' ? 'kept' : s);

function watchView(w: Watch, rows: Array<{ at: number; evidence: string }>): WatchView {
  const minutes: Array<{ at: number; m: Minute }> = [];
  for (const r of rows) {
    const parsed = minuteSchema.safeParse(JSON.parse(r.evidence));
    if (parsed.success) minutes.push({ at: r.at, m: parsed.data });
  }
  const breach = w.evidence ? breachSchema.safeParse(JSON.parse(w.evidence)) : null;
  const verdict = breach?.success ? breach.data : null;
  // The SLO the verdict rests on; before one, the SLO that looked worst at the last check.
  const last = minutes.at(-1)?.m.slos ?? [];
  const worst = [...last].sort(
    (a, b) => STATUS_RANK[b.status] - STATUS_RANK[a.status] || (b.burn_high ?? 0) - (a.burn_high ?? 0),
  )[0];
  const slo = verdict?.slo ?? worst?.slo ?? null;
  const evidence: EvidenceMinute[] = [];
  for (const { at, m } of minutes) {
    const s = m.slos.find((x) => x.slo === slo);
    if (!s) continue;
    evidence.push({
      at: iso(at),
      before_ratio: s.baseline_ratio,
      after_ratio: s.post.ratio,
      after_events: s.post.events,
      after_bad: s.post.bad,
      burn_low: s.burn_low,
      burn_high: s.burn_high,
      line_burn: s.line_burn,
      status: s.status,
    });
  }
  return {
    deployment_id: w.deployment_id,
    environment: w.environment,
    sha: w.sha,
    pull_number: w.pull_number,
    pull_title: w.pull_title,
    deployed_at: iso(w.deployed_at),
    status: watchStatus(w.status),
    slo,
    rule: verdict?.verdict?.rules.length
      ? verdict.verdict.rules.map((r) => `auto_revert.${r}`).join(' + ')
      : null,
    confidence: verdict?.verdict?.confidence ?? null,
    reason: w.reason,
    revert_pr: w.revert_pr,
    evidence,
  };
}

function trendOf(decision: Decision, rows: Array<{ at: number; slos: SloFigures[] }>): SloTrend[] {
  return decision.slos.map((slo) => {
    const lookback = pace(slo.burn_rates)?.lookback ?? '1d';
    const points: SloTrend['points'] = [];
    for (const r of rows) {
      const f = r.slos.find((x) => x.name === slo.name);
      if (f) points.push({ at: iso(r.at), consumed: f.consumed, burn: f.burn_rates[lookback] ?? null });
    }
    return { slo: slo.name, lookback, points };
  });
}

export class SqlDashboardStore implements DashboardStore {
  readonly capabilities: Capabilities = { deployments: true, history: true, note: null };
  private readonly store: Store;
  private readonly o: Required<SqlDashboardOptions>;
  /** repo → its view as of its last stored evaluation (the held pull requests are read every time). */
  private readonly views = new LRUCache<string, { at: number; view: Omit<RepositoryView, 'held'> }>({
    max: 2000,
  });
  private readonly policies = new LRUCache<string, { policy: Policy | null }>({ max: 500 });

  constructor(store: Store, o: SqlDashboardOptions) {
    this.store = store;
    this.o = { clock: Date.now, ...o };
  }

  async fleet(): Promise<FleetRow[]> {
    return (await this.store.records.fleet()).map((r) => ({
      repo: r.repo,
      environment: r.environment,
      state: r.state,
      worst_slo: r.worst_slo,
      remaining: r.remaining,
      burn: r.burn,
      alerts: r.alerts,
      evaluated_at: iso(r.at),
    }));
  }

  private async view(repo: RepoName): Promise<Omit<RepositoryView, 'held'> | null> {
    const at = await this.store.records.decisionAt(repo);
    if (at === null) return null;
    const hit = this.views.get(repo);
    if (hit && hit.at === at) return hit.view;
    const row = await this.store.records.decision(repo);
    if (!row) return null;
    const decision = decisionSchema.parse(JSON.parse(row.decision));
    // The evaluator keeps hour rows for the longest SLO window: all of them are the history.
    const history = await this.store.service.figures(repo, 'hour', 0);
    const view = {
      repo,
      environment: row.environment,
      decision,
      alert_windows: z.array(alertWindowSchema).parse(JSON.parse(row.alert_windows)),
      source: row.source,
      trend: trendOf(decision, history),
    };
    this.views.set(repo, { at: row.at, view });
    return view;
  }

  async repository(repo: RepoName): Promise<RepositoryView | null> {
    const view = await this.view(repo);
    if (!view) return null;
    const held = await this.store.records.held(repo);
    return {
      ...view,
      held: held.map((p) => ({
        number: p.number,
        title: p.title,
        author: p.author,
        headline: p.headline ?? '',
        since: iso(p.held_since),
      })),
    };
  }

  private async known(repo: RepoName): Promise<boolean> {
    return (await this.store.records.decisionAt(repo)) !== null;
  }

  async deployments(repo: RepoName): Promise<WatchView[] | null> {
    if (!(await this.known(repo))) return null;
    const [owner = '', name = ''] = repo.split('/');
    const watches = await this.store.ofRepo(owner, name, PAGE_LIMITS.watches);
    const evidence = await this.store.service.evidenceOfMany(watches.map((w) => w.deployment_id));
    return watches.map((w) => watchView(w, evidence.get(w.deployment_id) ?? []));
  }

  async history(repo: RepoName): Promise<HistoryView | null> {
    if (!(await this.known(repo))) return null;
    const [decisions, audit, incidents, log] = [
      await this.store.records.gateDecisions(repo, PAGE_LIMITS.decisions),
      await this.store.records.auditNewest(repo, PAGE_LIMITS.audit),
      await this.store.incidents.ofRepo(repo, PAGE_LIMITS.incidents),
      await this.store.records.auditLog(repo),
    ];
    const note = !log
      ? 'The bot has not read this repository’s audit log yet: it does within minutes of starting, and after every push to the audit branch.'
      : log.error
        ? `The audit log on ${log.branch} could not be read${log.checked_at ? ` at ${iso(log.checked_at)}` : ''}: ${log.error}. The records below are those read before.`
        : null;
    return {
      decisions: decisions.map((d) => ({
        at: iso(d.at),
        pull_number: d.pull_number,
        sha: d.sha,
        state: d.state,
        allowed: d.allowed,
        headline: d.headline,
      })),
      audit,
      incidents: incidents.map((i) => ({
        id: `${i.key}@${i.opened_at}`,
        slo: i.slo,
        alert: i.alert,
        severity: i.severity,
        opened_at: iso(i.opened_at),
        resolved_at: i.resolved_at === null ? null : iso(i.resolved_at),
        acknowledged_by: i.acked_by === null ? null : i.acked_by.replace(/^@/, ''),
        issue_number: i.issue_number,
        timeline: i.timeline.map((e) => ({ at: iso(e.at), kind: e.kind, text: e.text })),
      })),
      audit_note: note,
    };
  }

  async oncall(repo: RepoName): Promise<OncallView | null> {
    if (!(await this.known(repo))) return null;
    const row = await this.store.service.get(repo);
    const text = row?.policy_status === 'ok' ? row.policy_text : null;
    if (!text) return null;
    let hit = this.policies.get(text);
    if (!hit) {
      try {
        hit = { policy: loadPolicy(text, this.o.policyPath).policy };
      } catch (e) {
        if (!(e instanceof PolicyError)) throw e;
        hit = { policy: null };
      }
      this.policies.set(text, hit);
    }
    if (!hit.policy) return null;
    const stored = await this.store.readiness?.get(repo);
    let readiness: Readiness | null = null;
    if (stored?.verdict) {
      try {
        readiness = readinessSchema.parse(JSON.parse(stored.verdict));
      } catch {
        // A verdict stored by an older or newer bot: the page says no verdict rather than guess.
        readiness = null;
      }
    }
    return oncallView(hit.policy, this.o.clock(), readiness);
  }
}
