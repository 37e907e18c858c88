import type { Change, LabelEvent } from '../policy/change.ts';
import { permissionLevel } from '../policy/schema.ts';
import { parseAt, readChangedFiles } from './inputs.ts';
import { CliError, type CliIo } from './io.ts';

export interface ChangeFlags {
  'changed-files'?: string | undefined;
  labels?: string | undefined;
  author?: string | undefined;
  'applied-by'?: string | undefined;
  'applied-at'?: string | undefined;
  'applier-teams'?: string | undefined;
  'applier-permission'?: string | undefined;
  'last-push-at'?: string | undefined;
  revert?: boolean | undefined;
}

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * The change to gate, from flags. Locally there is no GitHub to say who applied a label, so
 * `--applied-by` (and its team/permission facts) stand in for the issue events the Action reads.
 */
export async function changeFromFlags(io: CliIo, flags: ChangeFlags, at: number): Promise<Change> {
  const files = await readChangedFiles(io, flags['changed-files']);
  let permission: LabelEvent['applier_permission'] = null;
  if (flags['applier-permission'] !== undefined) {
    const p = permissionLevel.safeParse(flags['applier-permission']);
    if (!p.success)
      throw new CliError(`--applier-permission: expected one of ${permissionLevel.options.join(', ')}`);
    permission = p.data;
  }
  const appliedAt = flags['applied-at'] !== undefined ? parseAt(io, flags['applied-at'], '--applied-at') : at;
  const labels: LabelEvent[] = list(flags.labels).map((name) => ({
    name,
    applied_by: flags['applied-by'] ?? null,
    applied_at: appliedAt,
    applier_teams: list(flags['applier-teams']),
    applier_permission: permission,
  }));
  return {
    files,
    labels,
    author: flags.author ?? null,
    last_push_at:
      flags['last-push-at'] !== undefined ? parseAt(io, flags['last-push-at'], '--last-push-at') : null,
    revert: flags.revert ?? false,
  };
}
