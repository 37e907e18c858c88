import type { Policy } from '../spec/schema.ts';
import { windowBounds } from '../time/window.ts';
import type { Change } from './change.ts';
import type { Reason } from './decision-schema.ts';
import { overrideAction, pct, riskReason, sloPauseReason, splitAction, waitAction } from './explain.ts';
import { policyLoosenedReason } from './policy-change.ts';
import { describeRevertEvidence } from './risk.ts';
import type { Verdict } from './verdict.ts';

// The verdict in words: every reason names its rule and numbers, every action is something the
// person can do now (wait, split the change, ask for an override). Nothing here changes the verdict.

export function explainVerdict(
  policy: Policy,
  change: Change,
  at: number,
  source: string,
  v: Verdict,
): { reasons: Reason[]; actions: string[]; warnings: string[] } {
  const { state, risk, telemetryError } = v;
  const reasons: Reason[] = [];
  const actions: string[] = [];
  const warnings: string[] = [];

  if (telemetryError) {
    reasons.push({
      code: 'telemetry-error',
      rule: 'states.on_telemetry_error',
      slo: null,
      message: `telemetry from ${source} is unavailable (${telemetryError}); the policy says on_telemetry_error: ${policy.states.on_telemetry_error}`,
    });
    if (v.blocked) actions.push(`fix the telemetry source (${source}) and run the gate again`);
  }

  for (const e of v.pausing) reasons.push(sloPauseReason(policy, e, at));
  const loosened = policyLoosenedReason(change);
  if (loosened && state !== 'ship') reasons.push(loosened);
  else if (loosened) warnings.push(`${loosened.message}; it ships because no SLO is paused`);
  const rr = riskReason(risk.files, policy);
  if (rr && (state !== 'ship' || rr.code === 'risk')) reasons.push(rr);
  if (change.files_partial && state !== 'ship' && v.classified.risk === 'low') {
    reasons.push({
      code: 'files-partial',
      rule: null,
      slo: null,
      message: `GitHub listed only ${change.files.length} of the files this change touches, all low risk; the rest are unknown and could be prompts or models, so the change is judged high risk`,
    });
  }
  if (state === 'soft-pause' && risk.risk === 'low') {
    reasons.push({
      code: 'low-risk',
      rule: 'states.soft_pause',
      slo: null,
      message: 'soft pause holds only high-risk changes: this low-risk change ships',
    });
  }

  if (v.insufficient) {
    const { evaluations, onGap } = v.insufficient;
    const names = evaluations
      .map((e) => `${e.report.name} (${e.report.events ?? 0} of ${e.minEvents} tasks)`)
      .join(', ');
    reasons.push({
      code: 'insufficient-data',
      rule: 'states.on_insufficient_data',
      slo: evaluations[0]?.report.name ?? null,
      message: `too little traffic to judge ${names}; ${policy.states.on_insufficient_data ? `the policy says on_insufficient_data: ${onGap}` : `by default a ${risk.risk}-risk change is ${onGap === 'block' ? 'held' : 'let through'}`}`,
    });
    if (onGap === 'block')
      actions.push(`wait for more traffic: each SLO needs at least its min_events tasks in the window`);
  }

  if (v.blocked && !telemetryError) {
    for (const e of v.pausing) {
      const slo = policy.slos.find((s) => s.name === e.report.name);
      if (!slo) continue;
      const b = windowBounds(slo.window, at);
      actions.push(waitAction(policy, e, slo.window.kind === 'calendar' ? b.start + b.periodMs : null));
    }
    if (state === 'soft-pause') {
      const split = change.files_partial ? null : splitAction(risk.files);
      if (split) actions.push(split);
    }
    if (state === 'hard-pause')
      actions.push('only reverts ship during a hard pause: revert what is burning the budget');
  }

  const passage = v.passage;
  switch (passage.kind) {
    case 'revert': {
      const why = describeRevertEvidence(passage.evidence);
      reasons.push({
        code: 'revert',
        rule: null,
        slo: null,
        message: passage.held
          ? `this change is a revert (${why}): reverts always pass, so it ships despite the ${state}, and the passage is logged`
          : `this change is a revert (${why}): reverts always pass`,
      });
      break;
    }
    case 'override': {
      const o = passage.override;
      reasons.push({
        code: 'override',
        rule: 'overrides',
        slo: null,
        message: `@${o.applied_by} applied \`${o.label}\` at ${o.applied_at}: the ${state} is overridden until ${o.expires_at}, and the exception is logged`,
      });
      break;
    }
    case 'held':
      if (v.revert.kind === 'claimed') {
        reasons.push({
          code: 'revert-unverified',
          rule: null,
          slo: null,
          message: `this change calls itself a revert (${v.revert.claim}), but GitHub does not vouch for it — it is not the budget-gate App's revert pull request, its diff is not the exact inverse of an earlier commit, and it is not a rollback to a sha the environment ran — so it is judged as the change it is`,
        });
        actions.push(
          'to revert, use `git revert <sha>` of the commit to undo and change nothing else (the gate checks the diff is its exact inverse), or redeploy the sha that ran before',
        );
      }
      actions.push(overrideAction(policy));
      break;
    case 'open':
      if (state === 'ship' && reasons.length === 0) {
        const worst = [...v.evaluations].sort(
          (a, b) => (b.report.consumed ?? 0) - (a.report.consumed ?? 0),
        )[0];
        reasons.push({
          code: 'ship',
          rule: null,
          slo: worst?.report.name ?? null,
          message: worst
            ? `every SLO is within budget (most spent: ${worst.report.name} at ${pct(worst.report.consumed ?? 0)} of its ${worst.report.window} budget)`
            : 'every SLO is within budget',
        });
      }
      break;
  }
  return { reasons, actions, warnings };
}
