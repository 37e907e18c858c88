import { appendAuditEntry } from '../../github/audit-log.ts';
import { fetchApproverFacts, fetchLabelAppliers } from '../../github/labels.ts';
import { policyAt } from '../../github/policy-file.ts';
import { comment, removeLabel } from '../../github/pull-actions.ts';
import { fetchPullState } from '../../github/pull-state.ts';
import { labeledPayload, parsePayload } from '../../github/webhook-payloads.ts';
import type { LabelEvent } from '../../policy/gate/change.ts';
import type { OverrideRefusal } from '../../policy/gate/decision-schema.ts';
import type { AuditEntry } from '../../policy/overrides/audit-chain.ts';
import { sameUse } from '../../policy/overrides/audit-entry.ts';
import {
  describeApprovers,
  isOverrideLabel,
  overrideReasonOf,
  refuseOverride,
} from '../../policy/overrides/overrides.ts';
import type { BotDeps, HandlerContext } from '../deps.ts';

// pull_request.labeled with `override:<reason>`: is the person who applied it allowed to? The
// rules are the core's pure refuseOverride; this handler only gathers the facts (team
// memberships, repository permission) and acts: an unauthorized label is removed at once, with a
// comment naming who may apply it and why, and the refused attempt goes into the audit log.
// It acts on the pull request as it is now (its labels, who applied the one there, its base's
// policy), never on the delivery's snapshot: a delivery's id is not signed and GitHub's own
// redeliveries keep it, so a replayed old `labeled` delivery must find nothing left to do.

/** Refusals about who applied the label; timing refusals (expiry, a later push) are the gate's to judge. */
const UNAUTHORIZED: ReadonlySet<OverrideRefusal['code']> = new Set([
  'unknown-reason',
  'self-approval',
  'not-an-approver',
]);

export type LabelOutcome =
  | { kind: 'ignored'; reason: string }
  | { kind: 'accepted'; label: string; by: string }
  | { kind: 'refused'; refusal: OverrideRefusal; removed: boolean; audited: boolean };

export async function onOverrideLabel(ctx: HandlerContext, deps: BotDeps): Promise<LabelOutcome> {
  const p = parsePayload(labeledPayload, ctx.payload, 'pull_request.labeled');
  const label = p.label.name;
  if (!isOverrideLabel(label)) return { kind: 'ignored', reason: `${label} is not an override label` };
  const repo = { owner: p.repository.owner.login, repo: p.repository.name };
  const number = p.pull_request.number;
  const where = `${repo.owner}/${repo.repo}#${number}`;
  const ignore = (reason: string): LabelOutcome => {
    ctx.log.info(`${where}: ${label}: ${reason}`);
    return { kind: 'ignored', reason };
  };
  // The pull request as it is now: a replayed or late delivery must not undo what happened since.
  const now = await fetchPullState(ctx.octokit, repo, number);
  if (!now.labels.includes(label)) return ignore('no longer on the pull request: nothing to do');
  const applier = (await fetchLabelAppliers(ctx.octokit, repo, number, [label])).get(label);
  const who = applier?.applied_by;
  // Leaving a label is safe — the gate judges every override itself; removing one wrongly is not.
  if (!who) return ignore('GitHub does not say who applied it: left for the gate to judge');
  if (who.toLowerCase() !== p.sender.login.toLowerCase())
    ctx.log.info(
      `${where}: this delivery is about @${p.sender.login}'s ${label}; the one on the pull request now is @${who}'s: judging that one`,
    );
  // The policy at the pull request's base: it cannot widen who may override it by editing its own copy.
  const found = await policyAt(ctx.octokit, repo, deps.policyPath, now.base_sha);
  if (found.kind !== 'ok')
    return ignore(
      `not checked: ${found.kind === 'none' ? `no ${deps.policyPath}` : `invalid policy: ${found.message}`}`,
    );
  const overrides = found.loaded.policy.overrides;
  const author = now.author;
  const at = deps.clock();
  const event: LabelEvent = {
    name: label,
    applied_by: who,
    applied_at: applier?.applied_at ?? at,
    applier_teams: [],
    applier_permission: null,
  };
  if (who.toLowerCase() !== author?.toLowerCase()) {
    const facts = await fetchApproverFacts(ctx.octokit, repo, who, overrides.approvers);
    for (const w of facts.warnings) ctx.log.warn(`${where}: ${w}`);
    event.applier_teams = facts.teams;
    event.applier_permission = facts.permission;
  }
  const refusal = refuseOverride(overrides, event, { author, last_push_at: null }, at);
  if (!refusal || !UNAUTHORIZED.has(refusal.code)) {
    ctx.log.info(`${where}: ${label} applied by @${who}, an approver`);
    return { kind: 'accepted', label, by: who };
  }

  // The record first: it is idempotent (the same use is found and not written twice), so a
  // handler that dies after it and is delivered again still removes the label and says why.
  let audited = false;
  try {
    const entry: AuditEntry = {
      kind: 'override-refused',
      repo: `${repo.owner}/${repo.repo}`,
      pull_request: number,
      sha: now.head_sha,
      label,
      reason: overrideReasonOf(label),
      actor: who,
      author,
      at: new Date(at).toISOString(),
      state: null,
      message: refusal.message,
      slos: [],
      source: 'bot',
    };
    await appendAuditEntry(ctx.octokit, repo, overrides.audit, entry, {
      isDuplicate: sameUse(entry),
      anchor: true,
    });
    audited = true;
  } catch (e) {
    ctx.log.error(
      `${where}: could not record the refused ${label} in the audit log: ${(e as Error).message}`,
    );
  }
  const removed = await removeLabel(ctx.octokit, repo, number, label);
  // Whoever removed it first said why: a second delivery racing this one posts nothing.
  if (removed) {
    await comment(
      ctx.octokit,
      repo,
      number,
      [
        `budget-gate removed \`${label}\`: ${refusal.message}.`,
        '',
        `Who may apply an override: ${describeApprovers(overrides)} (never the change's author). Allowed reasons: ${overrides.reasons.map((r) => `\`override:${r}\``).join(', ')}.`,
        'An override lets one change through an error-budget pause, so only the people the policy names may grant it; this attempt is recorded in the audit log.',
      ].join('\n'),
    );
  }
  ctx.log.info(`${where}: refused ${label} from @${who}: ${refusal.message}`);
  return { kind: 'refused', refusal, removed, audited };
}
