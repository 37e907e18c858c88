import {
  assessDeployment,
  type CanaryWatch,
  type DeploymentAssessment,
  planCanaryRequest,
} from '../policy/canary/assess.ts';
import type { Watch, WatchEvidence } from '../policy/canary/ports.ts';
import type { TelemetryResult } from '../policy/gate/sample.ts';
import type { Policy } from '../policy/spec/schema.ts';
import { bucketRequest } from './canary-buckets.ts';
import type { WatcherHooks } from './escalation.ts';
import { buildEvidence, type Evidence, evidenceSchema } from './evidence.ts';
import { PolicyCache } from './policy-cache.ts';
import { LeaseLostError, parseProgress, type RevertContext, type RevertProgress } from './revert/progress.ts';
import { evidenceJson, groupWatches } from './tick-rows.ts';
import {
  backoffAfter,
  DEFAULT_BACKOFF_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_ATTEMPTS,
  type FailureReporter,
  type TickReport,
  type WatcherOptions,
} from './watcher-options.ts';

// The post-deploy watcher. Each tick leases the live watches, groups them by repository and policy,
// makes ONE telemetry fetch per group for every watch in it, and judges each watch with the pure
// assessDeployment. Time comes from the injected clock, so tests drive ticks without waiting.

export {
  DEFAULT_BACKOFF_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_ATTEMPTS,
  type Reverter,
  type RevertResult,
  type TickReport,
  type WatcherOptions,
} from './watcher-options.ts';

const noReport: FailureReporter = async () => {};

export class Watcher {
  private readonly o: Required<Omit<WatcherOptions, 'bucketed' | 'hooks' | 'shadow'>> &
    Pick<WatcherOptions, 'shadow'> & { bucketed: boolean };
  private readonly policies = new PolicyCache();
  private running: Promise<TickReport> | null = null;
  private stopped = false;

  private readonly hooks: WatcherHooks;

  constructor(o: WatcherOptions) {
    this.hooks = o.hooks ?? {};
    this.o = {
      leaseMs: DEFAULT_LEASE_MS,
      batch: 10_000,
      bucketed: true,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      backoffMs: DEFAULT_BACKOFF_MS,
      reportFailure: noReport,
      ...o,
    };
  }

  /** One pass over the live watches. Overlapping calls share the pass in progress. */
  tick(): Promise<TickReport> {
    if (this.stopped) return Promise.resolve(emptyReport(this.o.clock()));
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  /** No new ticks; resolves once the tick in progress (if any) is over, so leases can be released. */
  async stop(): Promise<void> {
    this.stopped = true;
    // Only the wait matters here: a failed tick was already reported to whoever started it.
    await this.running?.catch(() => undefined);
  }

  /** Store writes on a claimed watch read the clock when they run, not when the tick began. */
  private now(): number {
    return this.o.clock();
  }

  private async pass(): Promise<TickReport> {
    const { store, replica, leaseMs, batch } = this.o;
    const at = this.now();
    const report = emptyReport(at);
    const claimed = await store.claim(replica, at, leaseMs, batch);
    report.claimed = claimed.length;
    let first = true;
    for (const watches of groupWatches(claimed)) {
      // A long tick (reverts take seconds each) must not outlive the leases it took at its start.
      if (!first) await store.renew(replica, this.now(), leaseMs);
      first = false;
      try {
        await this.group(watches, at, report);
      } catch (e) {
        const w = watches[0]!;
        const msg = `${w.owner}/${w.repo}: ${(e as Error).message}`;
        report.errors.push(msg);
        this.o.log.error(`canary tick: ${msg}`);
      }
    }
    await this.hooks.tick?.(at);
    return report;
  }

  private async group(watches: Watch[], at: number, report: TickReport): Promise<void> {
    const first = watches[0]!;
    const policy = this.policies.get(first.policy_text, first.policy_path);
    const interval = policy.auto_revert.interval.ms;

    for (const w of watches.filter((w) => w.status === 'reverting')) {
      let evidence: Evidence;
      try {
        evidence = evidenceSchema.parse(JSON.parse(w.evidence ?? 'null'));
      } catch (e) {
        // One unreadable row must not hold up the other watches of its repository.
        const msg = `deployment ${w.deployment_id}: stored evidence unreadable, revert not attempted: ${(e as Error).message}`;
        report.errors.push(msg);
        this.o.log.error(msg);
        continue;
      }
      await this.revert(w, evidence, policy, report);
    }

    const due = watches.filter(
      (w) => w.status === 'watching' && at - (w.last_checked_at ?? w.deployed_at) >= interval,
    );
    if (due.length === 0) return;
    const canary: CanaryWatch[] = due.map((w) => ({
      id: String(w.deployment_id),
      deployed_at: w.deployed_at,
    }));
    let result: TelemetryResult;
    try {
      result = await this.fetch(policy, canary, at, interval, report);
    } catch (e) {
      // No numbers, no verdict: the watches stay live and are judged at the next tick.
      const msg = `${first.owner}/${first.repo}: telemetry from ${this.o.source.name} failed, ${due.length} watch(es) kept for the next tick: ${(e as Error).message}`;
      report.telemetry_errors++;
      report.errors.push(msg);
      this.o.log.warn(msg);
      return;
    }

    // The routine writes (each watch's evidence, the check of those left live) wait for the end of
    // the group and go in one transaction each: a commit per watch cost more than its judging.
    const evidence: WatchEvidence[] = [];
    const checked: number[] = [];
    try {
      for (let i = 0; i < due.length; i++) {
        const w = due[i]!;
        report.evaluated++;
        const id = w.deployment_id;
        // Every look is assessed in full and kept minute by minute: the dashboard shows the evidence
        // as it grew, not only at the verdict (wouldBreach alone would be cheaper, and leave no trail).
        const a = assessDeployment(policy, canary[i]!, result, at);
        evidence.push({ id, at, evidence: evidenceJson(a) });
        if (a.breach && a.worst) await this.breached(w, a.worst, policy, at, report);
        else if (a.expired) {
          await this.o.store.finish(id, this.o.replica, this.now(), {
            status: 'expired',
            reason: a.worst ? a.worst.message : 'watched for the whole auto_revert.within',
          });
          report.expired.push(id);
          this.o.log.info(`deployment ${id}: watch over, not reverted (${a.worst?.message ?? 'no SLO'})`);
        } else checked.push(id);
      }
      const held = await this.o.store.checkedMany(checked, this.o.replica, this.now());
      for (let i = 0; i < held.length; i++)
        if (!held[i])
          this.o.log.warn(`deployment ${checked[i]}: lease lost during the tick; another replica has it`);
    } finally {
      await this.keepEvidence(evidence);
    }
  }

  /** A breach: shadowed, or recorded and reverted (the revert may take a while: leases are renewed). */
  private async breached(
    w: Watch,
    worst: NonNullable<DeploymentAssessment['worst']>,
    policy: Policy,
    at: number,
    report: TickReport,
  ): Promise<void> {
    const id = w.deployment_id;
    const evidence = buildEvidence(policy, worst, w.deployed_at, at);
    if (policy.auto_revert.mode === 'shadow') {
      await this.shadow(w, evidence, policy, report);
      return;
    }
    if (!(await this.o.store.startRevert(id, this.o.replica, this.now(), JSON.stringify(evidence)))) {
      this.o.log.warn(`deployment ${id}: lease lost before the revert; another replica has it`);
      return;
    }
    this.o.log.info(`deployment ${id} breached: ${worst.message}`);
    const started: Watch = {
      ...w,
      status: 'reverting',
      revert_attempts: 0,
      revert_next_at: null,
      revert_progress: null,
      last_error: null,
    };
    await this.revert(started, evidence, policy, report);
  }

  private async fetch(
    policy: Policy,
    canary: CanaryWatch[],
    at: number,
    interval: number,
    report: TickReport,
  ): Promise<TelemetryResult> {
    // The plain request is only for sources the bucketed one does not suit: planned when asked for
    // (its ranges per watch cost as much as the judging).
    const plain = () => planCanaryRequest(policy, canary, at);
    const count = (r: TelemetryResult) => {
      report.fetches++;
      report.metrics_requests += r.stats?.requests ?? 0;
      report.metrics_retries += r.stats?.retries ?? 0;
      return r;
    };
    if (!this.o.bucketed) return count(await this.o.source.fetch(plain()));
    // Bucketed on the interval grid and filled, the answer is one grid per SLO: every watch's
    // ranges, guard spans and minute blocks are read from it, at no cost per watch.
    const bucketed = bucketRequest(
      planCanaryRequest(policy, canary, at, { onset: true, grid: true }),
      interval,
      {
        fill: true,
      },
    );
    const answered = bucketed.answer(count(await this.o.source.fetch(bucketed.request)));
    // Ratio-only sources (Sloth, Pyrra rules) cannot be summed: ask for the ranges themselves.
    return answered ?? count(await this.o.source.fetch(plain()));
  }

  /**
   * The checks' evidence, per minute, for the dashboard. A failed write costs the history one
   * minute, never the verdicts: the judge acts on the assessments in hand.
   */
  private async keepEvidence(rows: WatchEvidence[]): Promise<void> {
    try {
      await this.o.store.recordEvidenceMany(rows);
    } catch (e) {
      const ids = rows.length === 1 ? `deployment ${rows[0]!.id}` : `${rows.length} deployments`;
      this.o.log.warn(`${ids}: evidence history not written: ${(e as Error).message}`);
    }
  }

  /** Judged exactly as enforce would, reported instead of reverted, and recorded as `shadowed`. */
  private async shadow(w: Watch, evidence: Evidence, policy: Policy, report: TickReport) {
    const id = w.deployment_id;
    this.o.log.info(`deployment ${id} (shadow mode): would revert: ${evidence.message}`);
    try {
      await this.o.shadow?.(w, evidence, policy);
    } catch (e) {
      this.o.log.warn(`deployment ${id} (shadow mode): report failed: ${(e as Error).message}`);
    }
    // Recorded once whatever the report did, so a verdict is never posted twice.
    const reason = `shadow mode, would revert: ${evidence.message}`;
    if (await this.o.store.finish(id, this.o.replica, this.now(), { status: 'shadowed', reason })) {
      report.shadowed.push(id);
    }
  }

  private async revert(w: Watch, evidence: Evidence, policy: Policy, report: TickReport) {
    const { store, replica, leaseMs, log } = this.o;
    const id = w.deployment_id;
    if (w.revert_next_at !== null && w.revert_next_at > this.now()) return; // backing off
    const progress = parseProgress(w.revert_progress);
    if (w.revert_attempts >= this.o.maxAttempts) {
      // Attempts used (the last one died before it could record the end): give up now.
      await this.giveUp(
        w,
        evidence,
        policy,
        w.revert_attempts,
        w.last_error ?? 'unknown error',
        progress,
        report,
      );
      return;
    }
    const attempt = await store.beginAttempt(id, replica, this.now(), leaseMs);
    if (attempt === null) {
      log.warn(`deployment ${id}: lease lost before the revert; another replica has it`);
      return;
    }
    const ctx: RevertContext = {
      attempt,
      progress,
      save: async (p) => {
        ctx.progress = p;
        const now = this.now();
        if (!(await store.saveProgress(id, replica, now, leaseMs, JSON.stringify(p))))
          throw new LeaseLostError(id);
        // Each step is a heartbeat for every lease of this tick, not only the reverting watch's.
        await store.renew(replica, now, leaseMs);
      },
    };
    try {
      await this.attempt(w, evidence, policy, ctx, report);
    } finally {
      // The other watches of this tick keep their leases however long the revert took.
      await store.renew(replica, this.now(), leaseMs);
    }
  }

  private async attempt(
    w: Watch,
    evidence: Evidence,
    policy: Policy,
    ctx: RevertContext,
    report: TickReport,
  ) {
    const { store, replica, log } = this.o;
    const id = w.deployment_id;
    const attempt = ctx.attempt;
    try {
      const pr = await this.o.revert(w, evidence, policy, ctx);
      const ended = await store.finish(id, replica, this.now(), {
        status: 'reverted',
        revert_pr: pr.pull_number,
        reason: evidence.message,
      });
      if (!ended) {
        log.warn(`deployment ${id}: lease lost as the revert ended; the replica holding it records the end`);
        return;
      }
      report.reverted.push({ deployment_id: id, pull_number: pr.pull_number, existing: pr.existing });
      log.info(`deployment ${id}: revert ${pr.existing ? 'completed' : 'opened'}: ${pr.url}`);
      // Once per revert: only the attempt that recorded the end pages (an earlier, crashed attempt
      // may have opened the pull request, so `existing` says nothing here).
      await this.hooks.revertOpened?.(w, pr, policy, this.now(), evidence.message);
    } catch (e) {
      if (e instanceof LeaseLostError) {
        log.warn(e.message);
        return;
      }
      const error = (e as Error).message;
      if (attempt >= this.o.maxAttempts) {
        await this.giveUp(w, evidence, policy, attempt, error, ctx.progress, report);
        return;
      }
      const wait = backoffAfter(attempt, this.o.backoffMs);
      await store.retryLater(id, replica, this.now(), this.now() + wait, error);
      report.retrying.push(id);
      const msg = `deployment ${id}: revert attempt ${attempt} of ${this.o.maxAttempts} failed, next in ${Math.round(wait / 1000)}s: ${error}`;
      report.errors.push(msg);
      log.error(msg);
    }
  }

  private async giveUp(
    w: Watch,
    evidence: Evidence,
    policy: Policy,
    attempts: number,
    error: string,
    progress: RevertProgress,
    report: TickReport,
  ) {
    const id = w.deployment_id;
    try {
      await this.o.reportFailure(w, evidence, { attempts, error, progress });
    } catch (e) {
      this.o.log.error(
        `deployment ${id}: could not report the failed revert on GitHub: ${(e as Error).message}`,
      );
    }
    const ended = await this.o.store.finish(id, this.o.replica, this.now(), {
      status: 'failed',
      revert_pr: progress.pr?.number ?? null,
      reason: `revert failed after ${attempts} attempt(s): ${error}`,
    });
    if (!ended) return;
    report.failed.push(id);
    const msg = `deployment ${id}: revert failed after ${attempts} attempt(s), given up: ${error}`;
    report.errors.push(msg);
    this.o.log.error(msg);
    await this.hooks.revertFailed?.(w, error, policy, this.now(), evidence.message);
  }
}

function emptyReport(at: number): TickReport {
  return {
    at,
    claimed: 0,
    evaluated: 0,
    fetches: 0,
    metrics_requests: 0,
    metrics_retries: 0,
    reverted: [],
    shadowed: [],
    failed: [],
    retrying: [],
    expired: [],
    telemetry_errors: 0,
    errors: [],
  };
}
