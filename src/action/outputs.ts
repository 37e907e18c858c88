import { type Change, changeToJson } from '../policy/gate/change.ts';
import type { Decision } from '../policy/gate/decision-schema.ts';

/** The step's outputs (action.yml), as strings the way GITHUB_OUTPUT carries them. */
export function outputsOf(decision: Decision, change: Change, requests: number): Record<string, string> {
  return {
    state: decision.state,
    allowed: String(decision.allowed),
    risk: decision.risk,
    decision: JSON.stringify(decision),
    change: JSON.stringify(changeToJson(change)),
    override: decision.override?.reason ?? '',
    'github-requests': String(requests),
  };
}
