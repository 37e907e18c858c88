import type { ChangeFacts } from '../policy/gate/ports.ts';
import type { Policy } from '../policy/spec/schema.ts';
import type { GateEvent } from './gate-event.ts';
import { canLookFurther, type Gathered, gatherChange, gatherFurther } from './gather-change.ts';
import type { GitHubClient } from './octokit.ts';

/** The change facts GitHub vouches for: the event's pull request or what a deploy ships. */
export function githubChangeFacts(
  gh: GitHubClient,
  event: GateEvent,
  environment: string,
  policy: Policy,
): ChangeFacts<Gathered> {
  return {
    gather: () => gatherChange(gh, event, environment),
    further: (g) =>
      canLookFurther(event, g, policy) ? gatherFurther(gh, event, g, policy, environment) : null,
  };
}
