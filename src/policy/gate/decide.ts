import { evaluateOverrides } from '../overrides/overrides.ts';
import type { Policy } from '../spec/schema.ts';
import { windowBounds } from '../time/window.ts';
import { firingAlerts } from './alerts.ts';
import type { Change } from './change.ts';
import type { Decision, Reason, State } from './decision-schema.ts';
import { overrideAction, pct, riskReason, sloPauseReason, splitAction, waitAction } from './explain.ts';
import { classifyRisk, describeRevertEvidence, judgeRevert, type RiskAssessment } from './risk.ts';
import type { TelemetryResult } from './sample.ts';
import { evaluateSlo, type SloEvaluation } from './slo-report.ts';

export interface DecideInput {
  policy: Policy;
  /** Evaluation time, ms since epoch. */
  at: number;
  change: Change;
  telemetry: { source: string; result: TelemetryResult | null; error: string | null };
  warnings?: string[];
}

const SEVERITY: Record<State, number> = { ship: 0, 'soft-pause': 1, 'hard-pause': 2 };
/** How many files the decision lists; the rest are counted in the risk reason. */
const MAX_RISK_FILES = 50;

/** The gate's decision: a pure function of the policy, the samples, the change and the time. */
export function decide(input: DecideInput): Decision {
  const { policy, at, change, telemetry } = input;
  const classified = classifyWithPolicyChange(policy, change);
  // Files GitHub did not list could be prompts or models: a partial list is judged high risk.
  const risk = change.files_partial ? { ...classified, risk: 'high' as const } : classified;
  const revertVerdict = judgeRevert(change);
  const revert = revertVerdict.revert;
  const override = evaluateOverrides(policy.overrides, change, at);
  const reasons: Reason[] = [];
  const actions: string[] = [];
  const warnings = [...(input.warnings ?? []), ...(telemetry.result?.warnings ?? [])];

  const telemetryError = telemetry.error ?? (telemetry.result ? null : 'no telemetry was read');
  const evaluations: SloEvaluation[] = telemetryError
    ? []
    : policy.slos.map((slo) => evaluateSlo(policy, slo, telemetry.result!.slos[slo.name], at));
  let state: State = 'ship';
  for (const e of evaluations) if (SEVERITY[e.report.state] > SEVERITY[state]) state = e.report.state;

  let blocked = false;
  if (telemetryError) {
    const block = policy.states.on_telemetry_error === 'block';
    // Fail closed by default: with no numbers the gate cannot tell a healthy fleet from a burning one.
    if (block) state = 'hard-pause';
    blocked = block;
    reasons.push({
      code: 'telemetry-error',
      rule: 'states.on_telemetry_error',
      slo: null,
      message: `telemetry from ${telemetry.source} is unavailable (${telemetryError}); the policy says on_telemetry_error: ${policy.states.on_telemetry_error}`,
    });
    if (block) actions.push(`fix the telemetry source (${telemetry.source}) and run the gate again`);
  }

  const pausing = evaluations.filter((e) => e.report.state !== 'ship');
  for (const e of pausing) reasons.push(sloPauseReason(policy, e, at));
  const loosened = policyLoosenedReason(change);
  if (loosened && state !== 'ship') reasons.push(loosened);
  else if (loosened) warnings.push(`${loosened.message}; it ships because no SLO is paused`);
  const rr = riskReason(risk.files, policy);
  if (rr && (state !== 'ship' || rr.code === 'risk')) reasons.push(rr);
  if (change.files_partial && state !== 'ship' && classified.risk === 'low') {
    reasons.push({
      code: 'files-partial',
      rule: null,
      slo: null,
      message: `GitHub listed only ${change.files.length} of the files this change touches, all low risk; the rest are unknown and could be prompts or models, so the change is judged high risk`,
    });
  }

  if (state === 'hard-pause' && !telemetryError) blocked = true;
  if (state === 'soft-pause' && risk.risk === 'high') blocked = true;
  if (state === 'soft-pause' && risk.risk === 'low') {
    reasons.push({
      code: 'low-risk',
      rule: 'states.soft_pause',
      slo: null,
      message: 'soft pause holds only high-risk changes: this low-risk change ships',
    });
  }

  const insufficient = evaluations.filter((e) => e.report.insufficient_data);
  if (insufficient.length > 0) {
    const onGap = policy.states.on_insufficient_data ?? (risk.risk === 'high' ? 'block' : 'allow');
    const names = insufficient
      .map((e) => `${e.report.name} (${e.report.events ?? 0} of ${e.minEvents} tasks)`)
      .join(', ');
    reasons.push({
      code: 'insufficient-data',
      rule: 'states.on_insufficient_data',
      slo: insufficient[0]!.report.name,
      message: `too little traffic to judge ${names}; ${policy.states.on_insufficient_data ? `the policy says on_insufficient_data: ${onGap}` : `by default a ${risk.risk}-risk change is ${onGap === 'block' ? 'held' : 'let through'}`}`,
    });
    if (onGap === 'block') {
      blocked = true;
      actions.push(`wait for more traffic: each SLO needs at least its min_events tasks in the window`);
    }
  }

  if (blocked && !telemetryError) {
    for (const e of pausing) {
      const w = policy.slos.find((s) => s.name === e.report.name)!.window;
      const b = windowBounds(w, at);
      actions.push(waitAction(policy, e, w.kind === 'calendar' ? b.start + b.periodMs : null));
    }
    if (state === 'soft-pause') {
      const split = change.files_partial ? null : splitAction(risk.files);
      if (split) actions.push(split);
    }
    if (state === 'hard-pause')
      actions.push('only reverts ship during a hard pause: revert what is burning the budget');
  }

  let allowed = !blocked;
  if (revert) {
    allowed = true;
    const why = describeRevertEvidence(revertVerdict.evidence!);
    reasons.push({
      code: 'revert',
      rule: null,
      slo: null,
      message: blocked
        ? `this change is a revert (${why}): reverts always pass, so it ships despite the ${state}, and the passage is logged`
        : `this change is a revert (${why}): reverts always pass`,
    });
  } else if (blocked && override.applied) {
    allowed = true;
    reasons.push({
      code: 'override',
      rule: 'overrides',
      slo: null,
      message: `@${override.applied.applied_by} applied \`${override.applied.label}\` at ${override.applied.applied_at}: the ${state} is overridden until ${override.applied.expires_at}, and the exception is logged`,
    });
  } else if (blocked) {
    if (revertVerdict.unverifiedClaim) {
      reasons.push({
        code: 'revert-unverified',
        rule: null,
        slo: null,
        message: `this change calls itself a revert (${revertVerdict.unverifiedClaim}), but GitHub does not vouch for it — it is not the budget-gate App's revert pull request, its diff is not the exact inverse of an earlier commit, and it is not a rollback to a sha the environment ran — so it is judged as the change it is`,
      });
      actions.push(
        'to revert, use `git revert <sha>` of the commit to undo and change nothing else (the gate checks the diff is its exact inverse), or redeploy the sha that ran before',
      );
    }
    actions.push(overrideAction(policy));
  }
  if (!blocked && !revert && state === 'ship' && reasons.length === 0) {
    const worst = [...evaluations].sort((a, b) => (b.report.consumed ?? 0) - (a.report.consumed ?? 0))[0];
    reasons.push({
      code: 'ship',
      rule: null,
      slo: worst?.report.name ?? null,
      message: worst
        ? `every SLO is within budget (most spent: ${worst.report.name} at ${pct(worst.report.consumed ?? 0)} of its ${worst.report.window} budget)`
        : 'every SLO is within budget',
    });
  }

  const highFirst = [...risk.files].sort((a, b) => (a.class === b.class ? 0 : a.class === 'high' ? -1 : 1));
  return {
    state,
    allowed,
    risk: risk.risk,
    revert,
    revert_evidence: revert ? revertVerdict.evidence : null,
    reasons,
    actions: allowed ? [] : actions,
    slos: evaluations.map((e) => e.report),
    alerts: firingAlerts(
      policy.alerts,
      evaluations.map((e) => e.report),
    ),
    risk_files: highFirst.slice(0, MAX_RISK_FILES),
    override: blocked && !revert ? override.applied : null,
    override_refusals: override.refusals,
    telemetry: { source: telemetry.source, error: telemetryError },
    warnings,
    thresholds: {
      soft_pause: policy.states.soft_pause.consumed,
      hard_pause: policy.states.hard_pause.consumed,
    },
    evaluated_at: new Date(at).toISOString(),
  };
}

/**
 * The policy file is judged by what its edit does, not by the risk rules (which it may itself be
 * editing): high when it loosens the policy in force, low when it only tightens. The other files
 * are classified as usual.
 */
function classifyWithPolicyChange(policy: Policy, change: Change): RiskAssessment {
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

function policyLoosenedReason(change: Change): Reason | null {
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
