import { assessDeployment, type CanaryWatch, planCanaryRequest } from '../policy/canary.ts';
import { parseDuration } from '../policy/duration.ts';
import type { TelemetryResult, TelemetrySource } from '../policy/sample.ts';
import type { Policy } from '../policy/schema.ts';
import { bucketRequest } from './canary-buckets.ts';
import { buildEvidence, type Evidence, evidenceSchema } from './evidence.ts';
import type { BotLog } from './log.ts';
import { PolicyCache } from './policy-cache.ts';
import type { Watch, WatchStore } from './store/watch.ts';

// The post-deploy watcher. Each tick leases the live watches, groups them by repository and policy,
// makes ONE telemetry fetch per group for every watch in it, and judges each watch with the pure
// assessDeployment. Time comes from the injected clock, so tests drive ticks without waiting.

export interface RevertResult {
  pull_number: number;
  url: string;
  /** Another delivery or replica had opened it already. */
  existing: boolean;
  draft: boolean;
}

export type Reverter = (watch: Watch, evidence: Evidence, policy: Policy) => Promise<RevertResult>;
/** Reports a verdict `auto_revert.mode: shadow` did not act on (a deployment status, a comment). */
export type ShadowReporter = (watch: Watch, evidence: Evidence, policy: Policy) => Promise<unknown>;

export interface WatcherOptions {
  store: WatchStore;
  source: TelemetrySource;
  clock: () => number;
  replica: string;
  revert: Reverter;
  /** Shadow-mode reports; without one, a shadow verdict is only logged and recorded. */
  shadow?: ShadowReporter;
  log: BotLog;
  /** How long a claimed watch stays this replica's without a tick renewing it. */
  leaseMs?: number;
  /** Watches leased per tick. */
  batch?: number;
  /** Snap per-watch ranges to the check interval so requests do not grow with watches (default on). */
  bucketed?: boolean;
}

export interface TickReport {
  at: number;
  claimed: number;
  evaluated: number;
  /** TelemetrySource.fetch calls: one per repository policy with due watches. */
  fetches: number;
  /** HTTP requests the source reports making (stats.requests), summed over fetches. */
  metrics_requests: number;
  reverted: Array<{ deployment_id: number; pull_number: number; existing: boolean }>;
  /** Deployments shadow mode would have reverted. */
  shadowed: number[];
  expired: number[];
  errors: string[];
}

export const DEFAULT_LEASE_MS = 120_000;

export class Watcher {
  private readonly o: Required<Omit<WatcherOptions, 'bucketed' | 'shadow'>> &
    Pick<WatcherOptions, 'shadow'> & { bucketed: boolean };
  private readonly policies = new PolicyCache();
  private running: Promise<TickReport> | null = null;

  constructor(o: WatcherOptions) {
    this.o = { leaseMs: DEFAULT_LEASE_MS, batch: 10_000, bucketed: true, ...o };
  }

  /** One pass over the live watches. Overlapping calls share the pass in progress. */
  tick(): Promise<TickReport> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async pass(): Promise<TickReport> {
    const { store, replica, clock, leaseMs, batch } = this.o;
    const at = clock();
    const report: TickReport = {
      at,
      claimed: 0,
      evaluated: 0,
      fetches: 0,
      metrics_requests: 0,
      reverted: [],
      shadowed: [],
      expired: [],
      errors: [],
    };
    const claimed = await store.claim(replica, at, leaseMs, batch);
    report.claimed = claimed.length;
    const groups = new Map<string, Watch[]>();
    for (const w of claimed) {
      const key = `${w.owner}/${w.repo}\n${w.policy_path}\n${w.policy_text}`;
      groups.set(key, [...(groups.get(key) ?? []), w]);
    }
    for (const watches of groups.values()) {
      try {
        await this.group(watches, at, report);
      } catch (e) {
        const w = watches[0]!;
        const msg = `${w.owner}/${w.repo}: ${(e as Error).message}`;
        report.errors.push(msg);
        this.o.log.error(`canary tick: ${msg}`);
      }
    }
    return report;
  }

  private async group(watches: Watch[], at: number, report: TickReport): Promise<void> {
    const first = watches[0]!;
    const policy = this.policies.get(first.policy_text, first.policy_path);
    const interval = parseDuration(policy.auto_revert.interval)!;

    for (const w of watches.filter((w) => w.status === 'reverting')) {
      await this.revert(w, evidenceSchema.parse(JSON.parse(w.evidence ?? 'null')), policy, report);
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
      report.errors.push(msg);
      this.o.log.warn(msg);
      return;
    }

    for (const [i, w] of due.entries()) {
      report.evaluated++;
      const a = assessDeployment(policy, canary[i]!, result, at);
      const id = w.deployment_id;
      if (a.breach && a.worst) {
        const evidence = buildEvidence(policy, a.worst, w.deployed_at, at);
        if (policy.auto_revert.mode === 'shadow') {
          await this.shadow(w, evidence, policy, at, report);
          continue;
        }
        if (!(await this.o.store.startRevert(id, this.o.replica, at, JSON.stringify(evidence)))) {
          this.o.log.warn(`deployment ${id}: lease lost before the revert; another replica has it`);
          continue;
        }
        this.o.log.info(`deployment ${id} breached: ${a.worst.message}`);
        await this.revert(w, evidence, policy, report);
      } else if (a.expired) {
        await this.o.store.finish(id, this.o.replica, at, {
          status: 'expired',
          reason: a.worst ? a.worst.message : 'watched for the whole auto_revert.within',
        });
        report.expired.push(id);
        this.o.log.info(`deployment ${id}: watch over, not reverted (${a.worst?.message ?? 'no SLO'})`);
      } else {
        await this.o.store.checked(id, this.o.replica, at);
      }
    }
  }

  private async fetch(
    policy: Policy,
    canary: CanaryWatch[],
    at: number,
    interval: number,
    report: TickReport,
  ): Promise<TelemetryResult> {
    const plain = planCanaryRequest(policy, canary, at);
    const count = (r: TelemetryResult) => {
      report.fetches++;
      report.metrics_requests += r.stats?.requests ?? 0;
      return r;
    };
    if (!this.o.bucketed) return count(await this.o.source.fetch(plain));
    const bucketed = bucketRequest(plain, interval);
    const answered = bucketed.answer(count(await this.o.source.fetch(bucketed.request)));
    // Ratio-only sources (Sloth, Pyrra rules) cannot be summed: ask for the ranges themselves.
    return answered ?? count(await this.o.source.fetch(plain));
  }

  /** Judged exactly as enforce would, reported instead of reverted, and recorded as `shadowed`. */
  private async shadow(w: Watch, evidence: Evidence, policy: Policy, at: number, report: TickReport) {
    const id = w.deployment_id;
    this.o.log.info(`deployment ${id} (shadow mode): would revert: ${evidence.message}`);
    try {
      await this.o.shadow?.(w, evidence, policy);
    } catch (e) {
      this.o.log.warn(`deployment ${id} (shadow mode): report failed: ${(e as Error).message}`);
    }
    // Recorded once whatever the report did, so a verdict is never posted twice.
    if (
      await this.o.store.finish(id, this.o.replica, at, {
        status: 'shadowed',
        reason: `shadow mode, would revert: ${evidence.message}`,
      })
    ) {
      report.shadowed.push(id);
    }
  }

  private async revert(w: Watch, evidence: Evidence, policy: Policy, report: TickReport) {
    const id = w.deployment_id;
    try {
      const pr = await this.o.revert(w, evidence, policy);
      await this.o.store.finish(id, this.o.replica, this.o.clock(), {
        status: 'reverted',
        revert_pr: pr.pull_number,
        reason: evidence.message,
      });
      report.reverted.push({ deployment_id: id, pull_number: pr.pull_number, existing: pr.existing });
      this.o.log.info(`deployment ${id}: revert ${pr.existing ? 'already open' : 'opened'}: ${pr.url}`);
    } catch (e) {
      // The watch stays `reverting` under this lease: the next tick (or replica) tries again, and
      // the branch lock makes a second attempt find the first one's pull request.
      const msg = `deployment ${id}: revert failed, will retry: ${(e as Error).message}`;
      report.errors.push(msg);
      this.o.log.error(msg);
    }
  }
}
