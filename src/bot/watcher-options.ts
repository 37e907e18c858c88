import type { Watch, WatchStore } from '../policy/canary/ports.ts';
import type { TelemetrySource } from '../policy/gate/ports.ts';
import type { Policy } from '../policy/spec/schema.ts';
import type { WatcherHooks } from './escalation.ts';
import type { Evidence } from './evidence.ts';
import type { BotLog } from './log.ts';
import type { RevertContext, RevertProgress } from './revert/progress.ts';

// The watcher's contract: what it is given (the store, the source, the reverter and reporters),
// what each tick reports, and the retry schedule of a failing revert.

export interface RevertResult {
  pull_number: number;
  url: string;
  /** Another delivery or replica had opened it already. */
  existing: boolean;
  draft: boolean;
}

export type Reverter = (
  watch: Watch,
  evidence: Evidence,
  policy: Policy,
  ctx: RevertContext,
) => Promise<RevertResult>;

/** Reports a verdict `auto_revert.mode: shadow` did not act on (a deployment status, a comment). */
type ShadowReporter = (watch: Watch, evidence: Evidence, policy: Policy) => Promise<unknown>;

/** Tells people a revert gave up (the deployment's status, the shipping PR). */
export type FailureReporter = (
  watch: Watch,
  evidence: Evidence,
  failure: { attempts: number; error: string; progress: RevertProgress },
) => Promise<void>;

export interface WatcherOptions {
  store: WatchStore;
  source: TelemetrySource;
  clock: () => number;
  replica: string;
  revert: Reverter;
  /** Called once a revert has used its attempts, before the watch ends `failed`. */
  reportFailure?: FailureReporter;
  /** Shadow-mode reports; without one, a shadow verdict is only logged and recorded. */
  shadow?: ShadowReporter;
  log: BotLog;
  /** Revert attempts before the watch ends `failed` (a crash mid-attempt counts as one). */
  maxAttempts?: number;
  /** Wait after the first failed attempt; doubles with each further one, up to 30 minutes. */
  backoffMs?: number;
  /** How long a claimed watch stays this replica's without a tick renewing it. */
  leaseMs?: number;
  /** Watches leased per tick. */
  batch?: number;
  /** Snap per-watch ranges to the check interval so requests do not grow with watches (default on). */
  bucketed?: boolean;
  /** On-call: paging about reverts and escalating unacknowledged ones (src/bot/escalation.ts). */
  hooks?: WatcherHooks;
}

export interface TickReport {
  at: number;
  claimed: number;
  evaluated: number;
  /** TelemetrySource.fetch calls: one per repository policy with due watches. */
  fetches: number;
  /** HTTP requests the source reports making (stats.requests), summed over fetches. */
  metrics_requests: number;
  /** Of those, attempts that failed and were tried again (e.g. a keep-alive socket the server closed). */
  metrics_retries: number;
  reverted: Array<{ deployment_id: number; pull_number: number; existing: boolean }>;
  /** Deployments shadow mode would have reverted. */
  shadowed: number[];
  /** Reverts that used their attempts and ended `failed`. */
  failed: number[];
  /** Reverts that failed this tick and wait for a later attempt. */
  retrying: number[];
  expired: number[];
  /** Telemetry fetches that failed (the watches wait for the next tick). */
  telemetry_errors: number;
  errors: string[];
}

export const DEFAULT_LEASE_MS = 120_000;
export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_BACKOFF_MS = 30_000;
const MAX_BACKOFF_MS = 30 * 60_000;

/** The wait after failed attempt `n` (1-based): base, 2×base, 4×base … capped. */
export const backoffAfter = (n: number, baseMs: number) => Math.min(MAX_BACKOFF_MS, baseMs * 2 ** (n - 1));
