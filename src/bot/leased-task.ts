import type { SqlLeaseStore } from '../store/leases.ts';
import type { BotLog } from './log.ts';

// A task the fleet needs once per interval, not once per replica (repository discovery): every
// replica asks each tick whether it is due, the one that leases it in the store runs it, renewing
// the lease while it runs, and the write that ends the lease schedules the next run. A replica
// that dies mid-run holds the lease until it runs out; the next replica to ask after that runs the
// task again at once, so the work moves within one lease (and one tick to notice).

export interface LeasedTaskOptions {
  leases: Pick<SqlLeaseStore, 'claim' | 'renew' | 'complete'>;
  name: string;
  replica: string;
  leaseMs: number;
  /** From the end of one run to the next. */
  everyMs: number;
  /** After a failed run, the next attempt comes this soon (at most everyMs). */
  retryMs?: number;
  /** How often the lease is renewed while the task runs (default: a third of the lease). */
  renewMs?: number;
  clock: () => number;
  log: BotLog;
  /** The replica is shutting down: the task should end early and the lease is handed back, not completed. */
  stopping?: () => boolean;
}

export interface LeasedRun<T> {
  result: T;
  /** The run ended under its lease and scheduled the next one. */
  completed: boolean;
}

const DEFAULT_RETRY_MS = 60_000;

/**
 * Runs `task` if it is due and this replica leases it; null when it is not due or another replica
 * holds it. `task` is given `held()`: false once the lease is lost or the replica is stopping, so
 * a long run can end between its steps rather than write beside another replica. A failed run is
 * rescheduled after `retryMs` and its error rethrown.
 */
export async function runLeased<T>(
  o: LeasedTaskOptions,
  task: (held: () => boolean) => Promise<T>,
): Promise<LeasedRun<T> | null> {
  const stopping = o.stopping ?? (() => false);
  if (stopping()) return null;
  if (!(await o.leases.claim(o.name, o.replica, o.clock(), o.leaseMs))) return null;
  let lost = false;
  let renewing: Promise<void> | null = null;
  const timer = setInterval(
    () => {
      if (renewing || lost) return;
      renewing = o.leases
        .renew(o.name, o.replica, o.clock(), o.leaseMs)
        .then(
          (ok) => {
            if (!ok) {
              lost = true;
              o.log.warn(`${o.name}: lease lost mid-run (it ran out); stopping so another replica runs it`);
            }
          },
          // The store is unreachable: the lease may run out, and complete() will say so.
          (e: Error) => o.log.warn(`${o.name}: could not renew the lease: ${e.message}`),
        )
        .finally(() => {
          renewing = null;
        });
    },
    o.renewMs ?? Math.max(1, Math.floor(o.leaseMs / 3)),
  );
  const settle = async () => {
    clearInterval(timer);
    await renewing;
  };
  let result: T;
  try {
    result = await task(() => !lost && !stopping());
  } catch (e) {
    await settle();
    const now = o.clock();
    const retry = Math.min(o.retryMs ?? DEFAULT_RETRY_MS, o.everyMs);
    await o.leases
      .complete(o.name, o.replica, now, now + retry, (e as Error).message.slice(0, 1000))
      .catch((err: Error) => o.log.warn(`${o.name}: could not record the failed run: ${err.message}`));
    throw e;
  }
  await settle();
  // Interrupted by the shutdown: not complete; the shutdown hands the lease back and the next
  // replica runs the task at once.
  if (stopping() && !lost) return { result, completed: false };
  const now = o.clock();
  const completed = !lost && (await o.leases.complete(o.name, o.replica, now, now + o.everyMs, null));
  if (!completed && !lost) {
    o.log.warn(`${o.name}: lease lost by the end of the run (it ran out); another replica may run it again`);
  }
  return { result, completed };
}
