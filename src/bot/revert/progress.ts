import { z } from 'zod';

// How far a revert got, kept in the store after every step. A process that dies mid-revert leaves
// this behind, and the next attempt (this replica restarted, or another) does only what is left.

const REVERT_STEPS = ['labels', 'reviewers', 'auto_merge', 'deployment_status', 'comment'] as const;
export type RevertStep = (typeof REVERT_STEPS)[number];

const revertProgressSchema = z.object({
  pr: z
    .object({ number: z.number(), html_url: z.string(), node_id: z.string(), draft: z.boolean() })
    .nullable(),
  /** The pull request was opened by an earlier attempt (or replica), not this process's first try. */
  existing: z.boolean(),
  done: z.array(z.enum(REVERT_STEPS)),
  /** Steps GitHub refused for good (a reviewer who is not a collaborator): done, with the reason. */
  skipped: z.array(z.object({ step: z.enum(REVERT_STEPS), error: z.string() })),
});
export type RevertProgress = z.output<typeof revertProgressSchema>;

export const NO_PROGRESS: RevertProgress = { pr: null, existing: false, done: [], skipped: [] };

/** The stored JSON; an unreadable value starts over, which is safe (each step checks GitHub). */
export function parseProgress(json: string | null): RevertProgress {
  if (json === null) return NO_PROGRESS;
  try {
    return revertProgressSchema.parse(JSON.parse(json));
  } catch {
    return NO_PROGRESS;
  }
}

/** Thrown by a progress save when the lease went to another replica: stop, it has the watch. */
export class LeaseLostError extends Error {
  constructor(deploymentId: number) {
    super(`deployment ${deploymentId}: lease lost mid-revert; another replica finishes it`);
    this.name = 'LeaseLostError';
  }
}

export interface RevertContext {
  /** 1 for the first attempt; a crash mid-attempt counts as one. */
  attempt: number;
  progress: RevertProgress;
  /** Records progress and renews the lease; throws LeaseLostError when the lease is gone. */
  save(progress: RevertProgress): Promise<void>;
}

/** For callers without a store (tests, the CLI): progress lives in memory for one attempt. */
export function memoryContext(): RevertContext {
  const ctx: RevertContext = {
    attempt: 1,
    progress: NO_PROGRESS,
    save: async (p) => {
      ctx.progress = p;
    },
  };
  return ctx;
}
