import type { Policy } from '../spec/schema.ts';
import type { Change } from './change.ts';
import type { Reason } from './decision-schema.ts';
import { classifyRisk, type RiskAssessment } from './risk.ts';

// A change to the policy file, as the gate sees it: the file is classified by what its edit does to
// the policy in force (src/policy/spec/loosening.ts lists each loosened key), never by the risk rules
// the edit may itself be rewriting.

/**
 * The policy file is judged by what its edit does, not by the risk rules (which it may itself be
 * editing): high when it loosens the policy in force, low when it only tightens. The other files
 * are classified as usual.
 */
export function classifyWithPolicyChange(policy: Policy, change: Change): RiskAssessment {
  const pc = change.policy_change;
  if (!pc) return classifyRisk(policy.risk, change.files);
  const rest = change.files.filter((f) => f !== pc.path);
  const others = classifyRisk(policy.risk, rest);
  const cls = pc.loosens.length > 0 ? ('high' as const) : ('low' as const);
  const file = {
    path: pc.path,
    class: cls,
    rule: pc.loosens.length > 0 ? 'policy-loosened' : 'policy-tightened',
  };
  const risk = cls === 'high' || (rest.length > 0 && others.risk === 'high') ? 'high' : 'low';
  return { risk, files: [file, ...others.files] };
}

/** How many loosened keys a reason spells out; the rest are counted. */
const MAX_LOOSENINGS = 12;

export function policyLoosenedReason(change: Change): Reason | null {
  const pc = change.policy_change;
  if (!pc || pc.loosens.length === 0) return null;
  const where = pc.in_force_at ? ` (in force at ${pc.in_force_at.slice(0, 7)})` : '';
  const listed = pc.loosens
    .slice(0, MAX_LOOSENINGS)
    .map((l) => `\`${l.key}\` ${l.from} → ${l.to}`)
    .join('; ');
  const more = pc.loosens.length > MAX_LOOSENINGS ? `; and ${pc.loosens.length - MAX_LOOSENINGS} more` : '';
  return {
    code: 'policy-loosened',
    rule: pc.loosens[0]!.key,
    slo: null,
    message: `this change loosens ${pc.path}${where}: ${listed}${more}; a change that loosens the policy in force is high risk, so under a pause it needs an override from an approver that policy names`,
  };
}
