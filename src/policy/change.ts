import type { PermissionLevel } from './schema.ts';

/** Who applied a label, and what GitHub says about them, gathered by the caller (action or bot). */
export interface LabelEvent {
  name: string;
  applied_by: string | null;
  /** ms since epoch */
  applied_at: number | null;
  /** `org/team-slug` for each team the applier belongs to that the policy names (as far as the token can see). */
  applier_teams: string[];
  applier_permission: PermissionLevel | 'none' | null;
}

/** The change being gated: a pull request, or what a deploy ships. */
export interface Change {
  files: string[];
  labels: LabelEvent[];
  author: string | null;
  /** ms since epoch: overrides must be applied after this. */
  last_push_at: number | null;
  title?: string | null;
  head_ref?: string | null;
  commit_messages?: string[];
  /** The caller already knows this change is a revert (e.g. the bot's own revert PR). */
  revert?: boolean;
}

export const emptyChange = (): Change => ({ files: [], labels: [], author: null, last_push_at: null });
