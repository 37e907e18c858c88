import { alertWindows, fleetFigures } from '../dashboard/figures.ts';
import { evaluateChange } from '../gate/evaluate-change.ts';
import type { GitHubClient } from '../github/octokit.ts';
import { readPolicyConditional } from '../github/policy-conditional.ts';
import type { Change } from '../policy/gate/change.ts';
import type { Decision } from '../policy/gate/decision-schema.ts';
import type { ChangeFacts, GatheredChange, TelemetrySource } from '../policy/gate/ports.ts';
import { formatProblem, PolicyError } from '../policy/spec/load.ts';
import type { Policy } from '../policy/spec/schema.ts';
import type { SqlRecords } from '../store/records.ts';
import { MINUTE_RETENTION_MS, type RepoRow, type Retention, type SqlRepoStore } from '../store/repos.ts';
import type { BotLog } from './log.ts';
import { PolicyCache } from './policy-cache.ts';

// The always-on service's evaluator. Each round leases the repositories that are due (their
// interval's cell has begun), reads each one's policy from its default branch — from the store
// when no push invalidated it, else conditionally (ETag: an unchanged file is a 304, free of the
// rate limit) — and runs the one gate pipeline on it with no change to judge. The decision's state,
// figures and firing alerts are stored as history, then handed to whatever acts on alerts.

type RepoStore = Pick<
  SqlRepoStore,
  'claim' | 'savePolicy' | 'complete' | 'renew' | 'record' | 'get' | 'list' | 'release'
>;

/** One repository's evaluation, as the alerting that follows reads it. */
export interface Evaluated {
  repo: RepoRow;
  policy: Policy;
  decision: Decision;
  /** The telemetry could not be read: nothing can be said about alerts (neither firing nor clear). */
  telemetryError: string | null;
  at: number;
  gh: GitHubClient;
}

export interface EvaluatorOptions {
  store: RepoStore;
  /** Where each repository's last decision is kept in full for the dashboard (the store's records). */
  decisions?: Pick<SqlRecords, 'saveDecision'>;
  source: TelemetrySource;
  clock: () => number;
  replica: string;
  leaseMs: number;
  /** The operator's floor under every policy's `service.interval`. */
  floorMs: number;
  policyPath: string;
  github: (installationId: number) => Promise<GitHubClient>;
  log: BotLog;
  /** Repositories leased per store round trip. */
  batch?: number;
  /** Evaluations in flight at once. */
  concurrency?: number;
  /** A policy no push invalidated is still revalidated (conditionally) this often, in case a push webhook was lost. */
  revalidateMs?: number;
  onEvaluated?: (e: Evaluated) => Promise<void>;
}

export interface RoundReport {
  at: number;
  claimed: number;
  evaluated: number;
  /** Repositories with no policy file at the path (nothing to evaluate, checked again each interval). */
  no_policy: number;
  failed: number;
  /** Policy reads: 200 (read), 304 (unchanged, free), 404 (none). */
  policy_reads: { read: number; unchanged: number; none: number };
  metrics_requests: number;
  /** full_name → when its evaluation succeeded (ms). */
  succeeded: Map<string, number>;
  errors: string[];
}

const DEFAULT_REVALIDATE_MS = 10 * 60_000;
/** Without a readable policy, a repository is looked at again on the default interval. */
const NO_POLICY_INTERVAL_MS = 60_000;

/** The first instant of the next cell of the interval's grid: at most one evaluation per cell. */
export const nextCell = (at: number, intervalMs: number) => (Math.floor(at / intervalMs) + 1) * intervalMs;

/** Minute rows for a day; hour rows for the policy's longest SLO window (a calendar month: 31 days). */
function retentionOf(policy: Policy): Retention {
  const day = 86_400_000;
  const longest = Math.max(
    ...policy.slos.map((s) =>
      s.window.kind === 'rolling' ? s.window.ms : s.window.spec === 'week' ? 7 * day : 31 * day,
    ),
  );
  return { minuteMs: MINUTE_RETENTION_MS, hourMs: Math.max(longest, MINUTE_RETENTION_MS) };
}

const NO_CHANGE: Change = { files: [], labels: [], author: null, last_push_at: null };

/** Here nothing is being judged: the pipeline gets an empty change and never looks further. */
const noChange = (sha: string): ChangeFacts<GatheredChange> => ({
  gather: async () => ({ change: NO_CHANGE, pull_request: null, sha, override_labels: [], warnings: [] }),
  further: () => null,
});

export class Evaluator {
  private readonly o: Required<Omit<EvaluatorOptions, 'onEvaluated' | 'decisions'>> &
    Pick<EvaluatorOptions, 'onEvaluated' | 'decisions'>;
  private readonly policies = new PolicyCache();
  private running: Promise<RoundReport> | null = null;
  private stopped = false;

  constructor(o: EvaluatorOptions) {
    this.o = { batch: 50, concurrency: 8, revalidateMs: DEFAULT_REVALIDATE_MS, ...o };
  }

  /** Every repository due now, once. Overlapping calls share the round in progress. */
  round(): Promise<RoundReport> {
    if (this.stopped) return Promise.resolve(emptyRound(this.o.clock()));
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  private async pass(): Promise<RoundReport> {
    const { store, replica, leaseMs, batch } = this.o;
    const report = emptyRound(this.o.clock());
    // Bounded: a claim that keeps answering (a clock far behind the store's rows) cannot spin forever.
    for (let i = 0; i < 10_000 && !this.stopped; i++) {
      const rows = await store.claim(replica, this.o.clock(), leaseMs, batch);
      if (rows.length === 0) break;
      report.claimed += rows.length;
      await pool(rows, this.o.concurrency, async (row) => {
        try {
          await this.one(row, report);
        } catch (e) {
          report.failed++;
          const msg = `${row.full_name}: ${(e as Error).message}`;
          report.errors.push(msg);
          this.o.log.warn(`evaluation: ${msg}`);
          // Tried in the next cell; the lease is given back with the error recorded.
          await store
            .complete(
              row.full_name,
              replica,
              this.o.clock(),
              nextCell(this.o.clock(), NO_POLICY_INTERVAL_MS),
              msg,
            )
            .catch(() => false);
        }
        // A slow repository must not let the others of this batch lose their leases.
        await store.renew(replica, this.o.clock(), leaseMs);
      });
    }
    return report;
  }

  private async policyText(row: RepoRow, gh: GitHubClient, report: RoundReport): Promise<string | null> {
    const now = this.o.clock();
    const fresh =
      !row.policy_stale &&
      row.policy_status !== null &&
      row.policy_checked_at !== null &&
      now - row.policy_checked_at < this.o.revalidateMs;
    if (fresh) return row.policy_status === 'ok' ? row.policy_text : null;
    const etag = row.policy_status === 'ok' ? row.policy_etag : null;
    const r = await readPolicyConditional(
      gh,
      { owner: row.owner, repo: row.repo },
      this.o.policyPath,
      row.default_branch,
      etag,
    );
    const saved =
      r.kind === 'unchanged'
        ? { text: row.policy_text, etag: row.policy_etag }
        : r.kind === 'none'
          ? { text: null, etag: null }
          : { text: r.text, etag: r.etag };
    report.policy_reads[r.kind === 'text' ? 'read' : r.kind]++;
    await this.o.store.savePolicy(row.full_name, this.o.replica, this.o.clock(), saved);
    return saved.text;
  }

  private async one(row: RepoRow, report: RoundReport): Promise<void> {
    const { store, replica } = this.o;
    const gh = await this.o.github(row.installation_id);
    const text = await this.policyText(row, gh, report);
    if (text === null) {
      report.no_policy++;
      const now = this.o.clock();
      await store.complete(
        row.full_name,
        replica,
        now,
        nextCell(now, NO_POLICY_INTERVAL_MS),
        `no policy at ${this.o.policyPath} on ${row.default_branch}`,
      );
      return;
    }
    let policy: Policy;
    let loaded: Parameters<typeof evaluateChange>[0]['loaded'];
    try {
      loaded = { policy: this.policies.get(text, this.o.policyPath), warnings: [], advice: [] };
      policy = loaded.policy;
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      throw new Error(
        `the policy on ${row.default_branch} is invalid: ${e.problems.map(formatProblem).join('; ')}`,
      );
    }
    const at = this.o.clock();
    const r = await evaluateChange({
      loaded,
      at,
      source: counted(this.o.source, report),
      facts: noChange(row.default_branch),
      audit: null,
      repo: row.full_name,
      origin: 'bot',
    });
    const d = r.decision;
    const telemetryError = r.telemetryError?.message ?? null;
    const interval = Math.max(policy.service.interval.ms, this.o.floorMs);
    const done = this.o.clock();
    const state = telemetryError === null ? d.state : null;
    if (
      !(await store.complete(row.full_name, replica, done, nextCell(at, interval), telemetryError, state))
    ) {
      this.o.log.warn(`${row.full_name}: lease lost during its evaluation; another replica has it`);
      return;
    }
    report.evaluated++;
    if (telemetryError === null) report.succeeded.set(row.full_name, done);
    else report.errors.push(`${row.full_name}: telemetry: ${telemetryError}`);
    await store.record(
      {
        repo: row.full_name,
        at,
        replica,
        state: d.state,
        slos: d.slos.map((s) => ({
          name: s.name,
          state: s.state,
          events: s.events,
          bad: s.bad,
          consumed: s.consumed,
          remaining: s.remaining,
          burn_rates: s.burn_rates,
          insufficient_data: s.insufficient_data,
        })),
        alerts: d.alerts,
        error: telemetryError,
      },
      retentionOf(policy),
    );
    // The decision in full (its text and charts), with the fleet's figures worked out now, once.
    await this.o.decisions?.saveDecision({
      repo: row.full_name,
      at,
      environment: policy.environments[0] ?? 'production',
      ...fleetFigures(d),
      decision: JSON.stringify(d),
      alert_windows: JSON.stringify(alertWindows(policy)),
      source: d.telemetry.source,
    });
    await this.o.onEvaluated?.({ repo: row, policy, decision: d, telemetryError, at, gh });
  }
}

/** The source, counting the metrics requests each fetch made (what a repository costs the backend). */
const counted = (source: TelemetrySource, report: RoundReport): TelemetrySource => ({
  name: source.name,
  fetch: async (request) => {
    const r = await source.fetch(request);
    report.metrics_requests += r.stats?.requests ?? 0;
    return r;
  },
});

function emptyRound(at: number): RoundReport {
  return {
    at,
    claimed: 0,
    evaluated: 0,
    no_policy: 0,
    failed: 0,
    policy_reads: { read: 0, unchanged: 0, none: 0 },
    metrics_requests: 0,
    succeeded: new Map(),
    errors: [],
  };
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}
