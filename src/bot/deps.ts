import type { GitHubClient } from '../github/octokit.ts';
import type { WatchStore } from '../policy/canary/ports.ts';
import type { TelemetrySource } from '../policy/gate/ports.ts';
import type { SqlIncidentStore } from '../store/incidents.ts';
import type { SqlReadinessStore } from '../store/readiness.ts';
import type { SqlRecords } from '../store/records.ts';
import type { SqlRepoStore } from '../store/repos.ts';
import type { BotLog } from './log.ts';

/** What every handler is given: the durable store, the SLI source and the clock. */
export interface BotDeps {
  store: WatchStore;
  source: TelemetrySource;
  clock: () => number;
  /** Where the policy lives in each repository. */
  policyPath: string;
  /** The always-on service's repositories; absent when it is off. */
  repos?: Pick<SqlRepoStore, 'invalidatePolicy' | 'sync'>;
  /** The always-on service's incidents, acknowledged and closed from their issues. */
  incidents?: Pick<SqlIncidentStore, 'byIssue' | 'ack' | 'resolve' | 'note'>;
  /** What the dashboard reads: the gate's decisions, pull requests, the audit log as read; absent when the service is off. */
  records?: Pick<SqlRecords, 'recordGateDecision' | 'pull' | 'savePull' | 'pullDecision' | 'auditPushed'>;
  /** The stored readiness verdicts: a push to the default branch makes them stale (readiness-sync.ts). */
  readiness?: Pick<SqlReadinessStore, 'pushed'>;
  /** The gate's check run, as the Action's `check-name` input names it (default `budget-gate`). */
  gateCheckName?: string;
}

/** The slice of Probot's Context the handlers use, so tests and other hosts can supply it. */
export interface HandlerContext {
  octokit: GitHubClient;
  payload: unknown;
  log: BotLog;
}
