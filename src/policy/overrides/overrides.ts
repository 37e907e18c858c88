import type { Change, Contributor, LabelEvent } from '../gate/change.ts';
import type { OverrideApplied, OverrideRefusal } from '../gate/decision-schema.ts';
import type { OverridesPolicy, PermissionLevel } from '../spec/schema.ts';
import { formatDuration } from '../time/duration.ts';

const PREFIX = 'override:';
/** A label GitHub time-stamped a little after the runner's clock still counts (clocks differ). */
const CLOCK_SKEW_MS = 5 * 60_000;
const RANK: Record<PermissionLevel | 'none', number> = {
  none: 0,
  read: 1,
  triage: 2,
  write: 3,
  maintain: 4,
  admin: 5,
};
/** When a policy names no approvers at all, maintainers and admins approve. */
export const DEFAULT_MIN_PERMISSION: PermissionLevel = 'maintain';

export function overrideReasonOf(label: string): string | null {
  return label.startsWith(PREFIX) ? label.slice(PREFIX.length).trim() || null : null;
}

export function isOverrideLabel(label: string): boolean {
  return label.startsWith(PREFIX);
}

function effectiveMinPermission(policy: OverridesPolicy): PermissionLevel | null {
  const a = policy.approvers;
  if (a.min_permission) return a.min_permission;
  return a.users.length === 0 && a.teams.length === 0 ? DEFAULT_MIN_PERMISSION : null;
}

/** Who may apply an override label, in words, for refusals and comments. */
export function describeApprovers(policy: OverridesPolicy): string {
  const parts: string[] = [];
  const a = policy.approvers;
  if (a.users.length > 0) parts.push(a.users.map((u) => `@${u}`).join(', '));
  if (a.teams.length > 0) parts.push(a.teams.map((t) => `@${t}`).join(', '));
  const min = effectiveMinPermission(policy);
  if (min) parts.push(`anyone with ${min} permission or higher`);
  return parts.join(', or ');
}

/** Whether this person may approve, from the facts the caller gathered (teams, permission). */
export function canApprove(
  policy: OverridesPolicy,
  label: Pick<LabelEvent, 'applied_by' | 'applier_teams' | 'applier_permission'>,
): boolean {
  const who = label.applied_by;
  if (!who) return false;
  const a = policy.approvers;
  if (a.users.some((u) => u.toLowerCase() === who.toLowerCase())) return true;
  const teams = new Set(label.applier_teams.map((t) => t.toLowerCase()));
  if (a.teams.some((t) => teams.has(t.toLowerCase()))) return true;
  const min = effectiveMinPermission(policy);
  return min !== null && label.applier_permission != null && RANK[label.applier_permission] >= RANK[min];
}

/** Checks one `override:<reason>` label; null when it is valid. */
export function refuseOverride(
  policy: OverridesPolicy,
  label: LabelEvent,
  change: Pick<
    Change,
    'author' | 'last_push_at' | 'last_push_unknown' | 'contributors' | 'contributors_unknown'
  >,
  at: number,
): OverrideRefusal | null {
  const reason = overrideReasonOf(label.name);
  const refusal = (code: OverrideRefusal['code'], message: string): OverrideRefusal => ({
    label: label.name,
    applied_by: label.applied_by,
    code,
    message,
  });
  if (reason === null || !policy.reasons.includes(reason)) {
    return refusal(
      'unknown-reason',
      `\`${label.name}\` is not an allowed override: use one of ${policy.reasons.map((r) => `\`override:${r}\``).join(', ')}`,
    );
  }
  const who = label.applied_by;
  if (who && change.author && who.toLowerCase() === change.author.toLowerCase()) {
    return refusal(
      'self-approval',
      `@${who} applied \`${label.name}\` to their own change: an override needs someone else (${describeApprovers(policy)})`,
    );
  }
  const wrote = who ? change.contributors?.find((c) => c.login.toLowerCase() === who.toLowerCase()) : null;
  if (wrote) {
    return refusal(
      'self-approval',
      `@${who} applied \`${label.name}\` but ${WROTE[wrote.as]} commit ${wrote.commit.slice(0, 7)} of this change: an override needs an approver who did not write it (${describeApprovers(policy)})`,
    );
  }
  if (!canApprove(policy, label)) {
    return refusal(
      'not-an-approver',
      `${who ? `@${who}` : 'whoever applied it'} may not approve overrides: \`${label.name}\` must be applied by ${describeApprovers(policy)}`,
    );
  }
  const unknown = change.contributors_unknown ?? [];
  if (unknown.length > 0) {
    return refusal(
      'unknown-authors',
      `cannot tell whether @${who} wrote part of this change, so \`${label.name}\` is not honoured: ${unknown.slice(0, 3).join('; ')}${unknown.length > 3 ? ` (and ${unknown.length - 3} more)` : ''}`,
    );
  }
  if (label.applied_at === null) {
    return refusal('before-last-push', `could not tell when \`${label.name}\` was applied: apply it again`);
  }
  if (change.last_push_unknown) {
    return refusal(
      'unknown-push-time',
      `cannot tell from GitHub when the change was last pushed, so \`${label.name}\` cannot be shown to come after it: ${change.last_push_unknown}`,
    );
  }
  if (change.last_push_at !== null && label.applied_at < change.last_push_at) {
    return refusal(
      'before-last-push',
      `\`${label.name}\` was applied at ${iso(label.applied_at)}, before the last push at ${iso(change.last_push_at)}: the approver must look at the change as it is now and apply it again`,
    );
  }
  if (label.applied_at > at + CLOCK_SKEW_MS) {
    return refusal(
      'applied-later',
      `\`${label.name}\` was applied at ${iso(label.applied_at)}, after the time this decision is made for (${iso(at)}): it cannot count yet; evaluate at or after that time`,
    );
  }
  const ttl = policy.expires_after.ms;
  if (at - label.applied_at > ttl) {
    return refusal(
      'expired',
      `\`${label.name}\` was applied at ${iso(label.applied_at)} and expired after ${formatDuration(ttl)}: apply it again if the exception still holds`,
    );
  }
  return null;
}

/** The most recently applied valid override (if any), and why every other override label was refused. */
export function evaluateOverrides(
  policy: OverridesPolicy,
  change: Change,
  at: number,
): { applied: OverrideApplied | null; refusals: OverrideRefusal[] } {
  const refusals: OverrideRefusal[] = [];
  let applied: OverrideApplied | null = null;
  const candidates = change.labels
    .filter((l) => isOverrideLabel(l.name))
    .sort((a, b) => (b.applied_at ?? 0) - (a.applied_at ?? 0));
  for (const label of candidates) {
    const refused = refuseOverride(policy, label, change, at);
    if (refused) {
      refusals.push(refused);
    } else if (applied === null) {
      applied = {
        reason: overrideReasonOf(label.name)!,
        label: label.name,
        applied_by: label.applied_by!,
        applied_at: iso(label.applied_at!),
        expires_at: iso(label.applied_at! + policy.expires_after.ms),
      };
    }
  }
  return { applied, refusals };
}

const iso = (ms: number) => new Date(ms).toISOString();

const WROTE: Record<Contributor['as'], string> = {
  author: 'authored',
  committer: 'committed',
  'co-author': 'is named as a co-author of',
};
