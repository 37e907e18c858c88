import { z } from 'zod';

// One watched deployment, as every store keeps it. Rows are parsed through this schema on the way
// out, so a PostgreSQL BIGINT (a string in `pg`) or a SQLite NULL arrive as the same types.

/** `shadowed`: judged a revert under `auto_revert.mode: shadow`, so reported and left live. */
export const watchStatus = z.enum([
  'watching',
  'reverting',
  'reverted',
  'expired',
  'superseded',
  'failed',
  'shadowed',
]);
type WatchStatus = z.output<typeof watchStatus>;

const int = z.coerce.number().int();
const nullableInt = z.union([z.null(), int]);

const watchSchema = z.object({
  deployment_id: int,
  owner: z.string(),
  repo: z.string(),
  installation_id: int,
  environment: z.string(),
  sha: z.string(),
  /** What the environment ran before: the revert restores its files. Null for a first deployment. */
  previous_sha: z.string().nullable(),
  previous_deployment_id: nullableInt,
  default_branch: z.string(),
  /** When the deployment went live (its `success` status), ms since epoch. */
  deployed_at: int,
  /** The pull request that shipped it, when one could be traced. */
  pull_number: nullableInt,
  pull_title: z.string().nullable(),
  /** The policy text in force at the deployed sha: every tick judges by it, whatever lands later. */
  policy_text: z.string(),
  policy_path: z.string(),
  status: watchStatus,
  last_checked_at: nullableInt,
  /** The breach, as JSON, recorded before the revert starts so a replica that takes over can finish it. */
  evidence: z.string().nullable(),
  revert_pr: nullableInt,
  reason: z.string().nullable(),
  lease_owner: z.string().nullable(),
  lease_until: nullableInt,
  /** Revert attempts begun (a crash mid-attempt counts): bounded, then the watch ends `failed`. */
  revert_attempts: int.default(0),
  /** No revert attempt before this time (backoff after a failed one). */
  revert_next_at: nullableInt.default(null),
  /** The revert's steps done so far, as JSON (see revert-progress.ts), so a retry does only the rest. */
  revert_progress: z.string().nullable().default(null),
  /** The last revert attempt's error. */
  last_error: z.string().nullable().default(null),
  created_at: int,
  updated_at: int,
});
export type Watch = z.output<typeof watchSchema>;

/** What a handler supplies; the store fills status, lease and timestamps. */
export type NewWatch = Omit<
  Watch,
  | 'status'
  | 'last_checked_at'
  | 'evidence'
  | 'revert_pr'
  | 'reason'
  | 'lease_owner'
  | 'lease_until'
  | 'revert_attempts'
  | 'revert_next_at'
  | 'revert_progress'
  | 'last_error'
  | 'created_at'
  | 'updated_at'
>;

/** A watch's evidence at one check, as recordEvidenceMany takes it. */
export interface WatchEvidence {
  id: number;
  at: number;
  /** JSON. */
  evidence: string;
}

export interface Outcome {
  status: Exclude<WatchStatus, 'watching' | 'reverting'>;
  revert_pr?: number | null;
  reason: string;
}

/**
 * Durable watches, leased to one replica at a time. Every write that acts on a claimed watch names
 * the replica and succeeds only while its lease holds, so a replica that lost its lease (it paused
 * past the expiry and another took over) finds out before it acts twice.
 */
export interface WatchStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Inserts the watch unless one exists for this deployment; true when this call inserted it. */
  add(watch: NewWatch, now: number): Promise<boolean>;
  /** Live watches of the same repository and environment that went live earlier stop: a newer deploy replaced them. */
  supersede(
    watch: Pick<Watch, 'owner' | 'repo' | 'environment' | 'deployed_at' | 'deployment_id'>,
    now: number,
  ): Promise<number>;
  /** Leases up to `limit` live watches that are free, expired or already this replica's. */
  claim(replica: string, now: number, leaseMs: number, limit: number): Promise<Watch[]>;
  /** A tick's checks of watches it left live, in one transaction; for each, whether its lease held. */
  checkedMany(ids: readonly number[], replica: string, now: number): Promise<boolean[]>;
  /**
   * Watches' evidence at one check each (JSON), kept per minute: the history a dashboard draws.
   * One transaction for all of them (a tick's).
   */
  recordEvidenceMany(rows: readonly WatchEvidence[]): Promise<void>;
  /** Records the breach and moves to `reverting`; false when the lease was lost. */
  startRevert(id: number, replica: string, now: number, evidence: string): Promise<boolean>;
  finish(id: number, replica: string, now: number, outcome: Outcome): Promise<boolean>;
  /**
   * Counts a revert attempt and renews the lease for it; the attempt's number, or null when the
   * lease was lost.
   */
  beginAttempt(id: number, replica: string, now: number, leaseMs: number): Promise<number | null>;
  /** Records the revert's progress (JSON) and renews the lease; false when the lease was lost. */
  saveProgress(id: number, replica: string, now: number, leaseMs: number, progress: string): Promise<boolean>;
  /** A failed attempt: the error, and no new attempt before `nextAt`. */
  retryLater(id: number, replica: string, now: number, nextAt: number, error: string): Promise<boolean>;
  /** Extends every lease this replica still holds (a long tick); how many. */
  renew(replica: string, now: number, leaseMs: number): Promise<number>;
  /** A cheap round trip, for /healthz. */
  ping(): Promise<void>;
  /**
   * A webhook delivery's handler completed. Only for recovery: a recorded id never makes the bot
   * skip a delivery (the id is not signed, and GitHub's redeliveries keep it); handlers are
   * idempotent on keys from the signed body instead.
   */
  deliveryHandled(guid: string, event: string, now: number): Promise<void>;
  /** The deliveries whose handler completed at or after `since`. */
  handledDeliveries(since: number): Promise<Set<string>>;
  get(id: number): Promise<Watch | null>;
  list(): Promise<Watch[]>;
  /** Gives this replica's leases back (a clean shutdown), so another replica need not wait them out. */
  release(replica: string): Promise<void>;
  close(): Promise<void>;
}

export function parseRow(row: unknown): Watch {
  return watchSchema.parse(row);
}
