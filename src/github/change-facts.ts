import type { ChangeFacts } from '../policy/gate/ports.ts';
import type { LoadedPolicy } from '../policy/spec/load.ts';
import type { Policy } from '../policy/spec/schema.ts';
import type { GateEvent } from './gate-event.ts';
import { canLookFurther, type Gathered, gatherChange, gatherFurther } from './gather-change.ts';
import type { GitHubClient } from './octokit.ts';
import { readPolicyChange } from './policy-in-force.ts';

export interface ChangeFactsOptions {
  /** The policy file and the policy in force: a change touching the file is judged on what it loosens. */
  policyFile?: { path: string; inForce: LoadedPolicy; at: string | null };
  /** What the change touches, already read (a deploy reads its diff to find the policy in force). */
  first?: Gathered;
}

/** The change facts GitHub vouches for: the event's pull request or what a deploy ships. */
export function githubChangeFacts(
  gh: GitHubClient,
  event: GateEvent,
  environment: string,
  policy: Policy,
  opts: ChangeFactsOptions = {},
): ChangeFacts<Gathered> {
  return {
    gather: async () => {
      const g = opts.first ?? (await gatherChange(gh, event, environment));
      const pf = opts.policyFile;
      if (!pf) return g;
      const pc = await readPolicyChange(gh, event.repo, {
        path: pf.path,
        inForce: pf.inForce,
        inForceAt: pf.at,
        head: event.head_sha,
        files: g.change.files,
      });
      return pc ? { ...g, change: { ...g.change, policy_change: pc } } : g;
    },
    further: (g) =>
      canLookFurther(event, g, policy) ? gatherFurther(gh, event, g, policy, environment) : null,
  };
}
