import type { Policy } from '../policy/spec/schema.ts';
import type { RepoRow } from '../store/repos.ts';
import type { PolicyCache } from './policy-cache.ts';

// The loop the bot's background readers share (audit-sync.ts, readiness-sync.ts): over the
// repositories the store lists, those with a valid policy are looked at; those due are read, at
// most `maxReads` a round, each claimed in the store first so that two replicas read it once.

export type DueRepo = Pick<RepoRow, 'full_name' | 'active' | 'policy_status' | 'policy_text'>;

export interface DueRound<R extends DueRepo, S> {
  repos: readonly R[];
  policies: PolicyCache;
  policyPath: string;
  /** What the store holds per repository, by full name. */
  states: ReadonlyMap<string, S>;
  due: (s: S | null, policy: Policy) => boolean;
  maxReads: number;
  /** The store's compare-and-set: false when another replica holds the repository. */
  claim: (r: R, policy: Policy, s: S | null) => Promise<boolean>;
  read: (r: R, policy: Policy, s: S | null) => Promise<void>;
}

/** One round; returns how many repositories were looked at and how many were read. */
export async function readDueRepos<R extends DueRepo, S>(
  o: DueRound<R, S>,
): Promise<{ looked: number; read: number }> {
  let looked = 0;
  let read = 0;
  for (const r of o.repos) {
    if (!r.active || r.policy_status !== 'ok' || !r.policy_text) continue;
    let policy: Policy;
    try {
      policy = o.policies.get(r.policy_text, o.policyPath);
    } catch {
      continue; // an invalid policy: the evaluator reports it
    }
    looked++;
    const s = o.states.get(r.full_name) ?? null;
    if (!o.due(s, policy)) continue;
    if (read >= o.maxReads) break;
    if (!(await o.claim(r, policy, s))) continue;
    read++;
    await o.read(r, policy, s);
  }
  return { looked, read };
}
