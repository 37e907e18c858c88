import { appendAuditEntry } from '../../github/audit-log.ts';
import { fetchApproverFacts } from '../../github/labels.ts';
import { policyAt } from '../../github/policy-file.ts';
import { comment, removeLabel } from '../../github/pull-actions.ts';
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
  // The default branch's policy: a pull request cannot widen who may override it by editing its own copy.
  const found = await policyAt(ctx.octokit, repo, deps.policyPath, p.repository.default_branch);
  if (found.kind !== 'ok') {
    const reason = found.kind === 'none' ? `no ${deps.policyPath}` : `invalid policy: ${found.message}`;
    ctx.log.info(`${repo.owner}/${repo.repo}#${number}: ${label} not checked: ${reason}`);
    return { kind: 'ignored', reason };
  }
  const overrides = found.loaded.policy.overrides;
  const author = p.pull_request.user?.login ?? null;
  const who = p.sender.login;
  const at = deps.clock();
  const event: LabelEvent = {
    name: label,
    applied_by: who,
    applied_at: at,
    applier_teams: [],
    applier_permission: null,
  };
  if (who.toLowerCase() !== author?.toLowerCase()) {
    const facts = await fetchApproverFacts(ctx.octokit, repo, who, overrides.approvers);
    for (const w of facts.warnings) ctx.log.warn(`${repo.owner}/${repo.repo}#${number}: ${w}`);
    event.applier_teams = facts.teams;
    event.applier_permission = facts.permission;
  }
  const refusal = refuseOverride(overrides, event, { author, last_push_at: null }, at);
  if (!refusal || !UNAUTHORIZED.has(refusal.code)) {
    ctx.log.info(`${repo.owner}/${repo.repo}#${number}: ${label} applied by @${who}, an approver`);
    return { kind: 'accepted', label, by: who };
  }

  const removed = await removeLabel(ctx.octokit, repo, number, label);
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
  let audited = false;
  try {
    const entry: AuditEntry = {
      kind: 'override-refused',
      repo: `${repo.owner}/${repo.repo}`,
      pull_request: number,
      sha: p.pull_request.head.sha,
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
    // A redelivered webhook finds its record and writes nothing.
    await appendAuditEntry(ctx.octokit, repo, overrides.audit, entry, {
      isDuplicate: sameUse(entry),
      anchor: true,
    });
    audited = true;
  } catch (e) {
    ctx.log.error(
      `${repo.owner}/${repo.repo}#${number}: could not record the refused ${label} in the audit log: ${(e as Error).message}`,
    );
  }
  ctx.log.info(`${repo.owner}/${repo.repo}#${number}: refused ${label} from @${who}: ${refusal.message}`);
  return { kind: 'refused', refusal, removed, audited };
}
