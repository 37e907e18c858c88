import type { Decision, Reason } from '../gate/decision-schema.ts';
import type { AuditEntry, AuditRecord } from './audit-chain.ts';

// The gate's side of the audit log (Action and bot alike): which record an applied override writes, which earlier
// record makes it a re-run, and what the decision becomes when the record cannot be written.

export interface AuditContext {
  /** owner/name */
  repo: string;
  pull_request: number | null;
  sha: string;
  author: string | null;
}

/** The `override-applied` record for a decision an override let through; null when none did. */
export function overrideAuditEntry(decision: Decision, ctx: AuditContext): AuditEntry | null {
  const o = decision.override;
  if (!o || !decision.allowed) return null;
  const why = decision.reasons.filter((r) => r.code !== 'override').map((r) => r.message);
  return {
    kind: 'override-applied',
    repo: ctx.repo,
    pull_request: ctx.pull_request,
    sha: ctx.sha,
    label: o.label,
    reason: o.reason,
    actor: o.applied_by,
    author: ctx.author,
    at: decision.evaluated_at,
    state: decision.state,
    message: `${decision.state} overridden by @${o.applied_by} (${o.label}, applied ${o.applied_at}, expires ${o.expires_at}): ${why.join('; ')}`,
    slos: decision.slos.map((s) => ({ name: s.name, consumed: s.consumed, state: s.state })),
    source: 'action',
  };
}

/**
 * The `revert-passed` record for a revert that went through a pause (DESIGN.md: every revert that
 * passes a pause is logged like an override): who, what it reverts, and the evidence.
 */
export function revertAuditEntry(decision: Decision, ctx: AuditContext): AuditEntry | null {
  const e = decision.revert_evidence;
  if (!e || !decision.allowed || decision.state === 'ship') return null;
  const why = decision.reasons.find((r) => r.code === 'revert')?.message ?? '';
  return {
    kind: 'revert-passed',
    repo: ctx.repo,
    pull_request: ctx.pull_request,
    sha: ctx.sha,
    label: `revert:${e.kind}`,
    reason: e.kind === 'inverse-diff' ? e.reverts : e.kind === 'rollback' ? e.sha : e.branch,
    actor: ctx.author,
    author: ctx.author,
    at: decision.evaluated_at,
    state: decision.state,
    message: `${decision.state} passed by a revert: ${why}`,
    slos: decision.slos.map((s) => ({ name: s.name, consumed: s.consumed, state: s.state })),
    source: 'action',
  };
}

/** A re-run of the same gate on the same commit finds its record instead of writing another. */
export const sameUse =
  (entry: AuditEntry) =>
  (r: AuditRecord): boolean =>
    r.kind === entry.kind &&
    r.repo === entry.repo &&
    r.sha === entry.sha &&
    r.pull_request === entry.pull_request &&
    r.label === entry.label &&
    r.actor === entry.actor;

/** What to do about an override the audit log could not record, from why it could not. */
export function unrecordedAction(error: string): string {
  if (/was rewritten/.test(error)) {
    return 'restore the audit branch from its history so it holds every anchored record (see `budget-gate audit verify --head`), protect the branch, then run it again';
  }
  if (/rate limit/i.test(error)) return 'run it again once GitHub’s rate limit resets';
  if (/branch protection rule or ruleset/.test(error)) {
    return 'let the gate push to the audit branch past its protection rule (force pushes can stay blocked), then run it again';
  }
  return 'let the gate append to the audit branch and anchor it (`permissions: contents: write, checks: write`), then run it again';
}

/**
 * An override nobody can read about later is not honoured: the change is blocked, and the reason
 * says what the token lacks.
 */
export function blockUnrecorded(decision: Decision, error: string): Decision {
  const reason: Reason = {
    code: 'override-unrecorded',
    rule: 'overrides.audit',
    slo: null,
    message: `the override \`${decision.override?.label}\` could not be written to the audit log (${error}), so it is not honoured`,
  };
  return {
    ...decision,
    allowed: false,
    override: null,
    reasons: [...decision.reasons.filter((r) => r.code !== 'override'), reason],
    actions: [unrecordedAction(error), ...decision.actions],
  };
}
