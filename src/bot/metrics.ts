import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RoundReport } from './evaluator.ts';
import type { TickReport } from './watcher.ts';
import type { GuardStats } from './webhook-guard.ts';

// The bot's own health, in Prometheus's text format on /metrics (prom-client). One registry per
// process, not prom-client's global one, so tests can run several bots side by side.

export class BotMetrics {
  readonly registry = new Registry();
  private readonly watchesLive: Gauge;
  private readonly checks: Counter;
  private readonly tickChecks: Histogram;
  private readonly tickDuration: Histogram;
  private readonly ticks: Counter;
  private readonly lastTick: Gauge;
  private readonly revertsOpened: Counter;
  private readonly revertsFailed: Counter;
  private readonly revertRetries: Counter;
  private readonly telemetryErrors: Counter;
  private readonly githubRequests: Counter;
  private readonly rateLimitWaits: Counter;
  private readonly rateLimitWaitSeconds: Counter;
  private readonly redeliveries: Counter;
  private readonly lastEvaluation: Gauge;
  private readonly lastRound: Gauge;
  private readonly evaluations: Counter;
  private readonly roundDuration: Histogram;
  private readonly policyReads: Counter;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.watchesLive = new Gauge({
      name: 'budget_gate_watches_live',
      help: 'Live watches (watching or reverting) this replica leased at its last tick',
      registers,
    });
    this.checks = new Counter({
      name: 'budget_gate_checks_total',
      help: 'Deployment checks made (one watch judged once)',
      registers,
    });
    this.tickChecks = new Histogram({
      name: 'budget_gate_tick_checks',
      help: 'Deployment checks per tick',
      buckets: [0, 1, 5, 20, 100, 500, 2000],
      registers,
    });
    this.tickDuration = new Histogram({
      name: 'budget_gate_tick_duration_seconds',
      help: 'How long a watcher tick took, reverts included',
      buckets: [0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.ticks = new Counter({
      name: 'budget_gate_ticks_total',
      help: 'Watcher ticks, by outcome (error: the tick itself failed, e.g. the store was unreachable)',
      labelNames: ['outcome'],
      registers,
    });
    this.lastTick = new Gauge({
      name: 'budget_gate_last_tick_timestamp_seconds',
      help: 'When the last tick that reached the store ended (Unix time)',
      registers,
    });
    this.revertsOpened = new Counter({
      name: 'budget_gate_reverts_opened_total',
      help: 'Revert pull requests finished (opened, or completed after a crash)',
      registers,
    });
    this.revertsFailed = new Counter({
      name: 'budget_gate_reverts_failed_total',
      help: 'Reverts that used all their attempts and ended failed',
      registers,
    });
    this.revertRetries = new Counter({
      name: 'budget_gate_revert_retries_total',
      help: 'Revert attempts that failed and were scheduled again',
      registers,
    });
    this.telemetryErrors = new Counter({
      name: 'budget_gate_telemetry_errors_total',
      help: 'Telemetry fetches that failed (the watches were kept for the next tick)',
      registers,
    });
    this.githubRequests = new Counter({
      name: 'budget_gate_github_requests_total',
      help: 'HTTP requests sent to GitHub, retries included, by method and status (0: no answer)',
      labelNames: ['method', 'status'],
      registers,
    });
    this.rateLimitWaits = new Counter({
      name: 'budget_gate_github_rate_limit_waits_total',
      help: 'Waits for a GitHub rate limit before a retry, by limit (primary, secondary)',
      labelNames: ['limit'],
      registers,
    });
    this.rateLimitWaitSeconds = new Counter({
      name: 'budget_gate_github_rate_limit_wait_seconds_total',
      help: 'Seconds spent waiting for GitHub rate limits',
      labelNames: ['limit'],
      registers,
    });
    this.redeliveries = new Counter({
      name: 'budget_gate_webhook_redeliveries_total',
      help: 'Webhook deliveries that had failed (the bot was down) and were asked again from GitHub',
      registers,
    });
    this.lastEvaluation = new Gauge({
      name: 'budget_gate_last_evaluation_timestamp_seconds',
      help: 'When this replica last evaluated the repository successfully (Unix time); max over replicas is the repository’s',
      labelNames: ['repository'],
      registers,
    });
    this.lastRound = new Gauge({
      name: 'budget_gate_last_evaluation_round_timestamp_seconds',
      help: 'When the evaluator last finished a round (Unix time), whether or not anything was due: the dead man’s switch',
      registers,
    });
    this.evaluations = new Counter({
      name: 'budget_gate_evaluations_total',
      help: 'Repository evaluations, by outcome (ok, telemetry_error, no_policy, failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.roundDuration = new Histogram({
      name: 'budget_gate_evaluation_round_duration_seconds',
      help: 'How long an evaluator round took',
      buckets: [0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.policyReads = new Counter({
      name: 'budget_gate_policy_reads_total',
      help: 'Policy reads from GitHub by answer: read (200), unchanged (304, free of the rate limit), none (404)',
      labelNames: ['answer'],
      registers,
    });
    for (const outcome of ['ok', 'telemetry_error', 'no_policy', 'failed'])
      this.evaluations.inc({ outcome }, 0);
    this.ticks.inc({ outcome: 'ok' }, 0);
    this.ticks.inc({ outcome: 'error' }, 0);
  }

  tick(report: TickReport, seconds: number, endedAt: number): void {
    this.ticks.inc({ outcome: 'ok' });
    this.lastTick.set(endedAt / 1000);
    this.watchesLive.set(report.claimed);
    this.checks.inc(report.evaluated);
    this.tickChecks.observe(report.evaluated);
    this.tickDuration.observe(seconds);
    this.revertsOpened.inc(report.reverted.length);
    this.revertsFailed.inc(report.failed.length);
    this.revertRetries.inc(report.retrying.length);
    this.telemetryErrors.inc(report.telemetry_errors);
  }

  round(r: RoundReport, seconds: number, endedAt: number): void {
    this.lastRound.set(endedAt / 1000);
    this.roundDuration.observe(seconds);
    for (const [repository, at] of r.succeeded) this.lastEvaluation.set({ repository }, at / 1000);
    this.evaluations.inc({ outcome: 'ok' }, r.succeeded.size);
    this.evaluations.inc({ outcome: 'telemetry_error' }, r.evaluated - r.succeeded.size);
    this.evaluations.inc({ outcome: 'no_policy' }, r.no_policy);
    this.evaluations.inc({ outcome: 'failed' }, r.failed);
    for (const [answer, n] of Object.entries(r.policy_reads)) this.policyReads.inc({ answer }, n);
  }

  tickFailed(seconds: number): void {
    this.ticks.inc({ outcome: 'error' });
    this.tickDuration.observe(seconds);
  }

  githubRequest(method: string, status: number | null): void {
    this.githubRequests.inc({ method, status: String(status ?? 0) });
  }

  rateLimitWait(limit: 'primary' | 'secondary', seconds: number): void {
    this.rateLimitWaits.inc({ limit });
    this.rateLimitWaitSeconds.inc({ limit }, seconds);
  }

  redelivered(n: number): void {
    this.redeliveries.inc(n);
  }

  /** The webhook guard's counters (webhook-guard.ts), read at each scrape. */
  webhookGuard(stats: () => GuardStats): void {
    const registers = [this.registry];
    new Gauge({
      name: 'budget_gate_webhook_unverified_bytes',
      help: 'Webhook body bytes held before their signature was checked, now and at most (kind: now|peak)',
      labelNames: ['kind'],
      registers,
      collect() {
        const s = stats();
        this.set({ kind: 'now' }, s.inFlightBytes);
        this.set({ kind: 'peak' }, s.peakInFlightBytes);
      },
    });
    new Gauge({
      name: 'budget_gate_webhook_deliveries',
      help: 'Webhook requests since start, by verdict: accepted, too_large (413), busy (503), bad_signature (401)',
      labelNames: ['verdict'],
      registers,
      collect() {
        const s = stats();
        this.set({ verdict: 'accepted' }, s.accepted);
        this.set({ verdict: 'too_large' }, s.tooLarge);
        this.set({ verdict: 'busy' }, s.busy);
        this.set({ verdict: 'bad_signature' }, s.badSignature);
      },
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
