import { type Change, changeSchema, type LabelEvent } from '../policy/gate/change.ts';
import { formatPath } from '../policy/spec/load.ts';
import { permissionLevel } from '../policy/spec/schema.ts';
import { parseAt, readChangedFiles, readText } from './inputs.ts';
import { CliError, type CliIo } from './io.ts';

/** Every change fact the Action gathers in GitHub, as flags; `--change FILE` takes them all as JSON. */
export const CHANGE_OPTIONS = {
  change: { type: 'string' },
  'changed-files': { type: 'string' },
  labels: { type: 'string' },
  'applied-by': { type: 'string' },
  'applied-at': { type: 'string' },
  'applier-teams': { type: 'string' },
  'applier-permission': { type: 'string' },
  author: { type: 'string' },
  'last-push-at': { type: 'string' },
  title: { type: 'string' },
  'head-ref': { type: 'string' },
  'commit-message': { type: 'string', multiple: true },
  'revert-of': { type: 'string' },
} as const;

export interface ChangeFlags {
  change?: string | undefined;
  'changed-files'?: string | undefined;
  labels?: string | undefined;
  author?: string | undefined;
  'applied-by'?: string | undefined;
  'applied-at'?: string | undefined;
  'applier-teams'?: string | undefined;
  'applier-permission'?: string | undefined;
  'last-push-at'?: string | undefined;
  title?: string | undefined;
  'head-ref'?: string | undefined;
  'commit-message'?: string[] | undefined;
  'revert-of'?: string | undefined;
}

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** The Action's `change` output (or a hand-written file of the same shape), validated. */
async function changeFromFile(io: CliIo, file: string): Promise<Change> {
  const text = await readText(io, file, 'change file');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CliError(`--change ${file}: not JSON (${(e as Error).message})`);
  }
  const parsed = changeSchema.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`);
    throw new CliError(`--change ${file}: ${where.join('; ')}`);
  }
  return parsed.data;
}

/**
 * The change to gate, from flags. Locally there is no GitHub to say who applied a label, so
 * `--applied-by` (and its team/permission facts) stand in for the issue events the Action reads.
 */
export async function changeFromFlags(io: CliIo, flags: ChangeFlags, at: number): Promise<Change> {
  if (flags.change !== undefined) {
    const others = Object.keys(CHANGE_OPTIONS).filter(
      (k) => k !== 'change' && flags[k as keyof ChangeFlags] !== undefined,
    );
    if (others.length > 0)
      throw new CliError(
        `--change carries every change fact: drop ${others.map((k) => `--${k}`).join(', ')}, or edit the file`,
      );
    return changeFromFile(io, flags.change);
  }
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
    ...(flags.title !== undefined ? { title: flags.title } : {}),
    ...(flags['head-ref'] !== undefined ? { head_ref: flags['head-ref'] } : {}),
    ...(flags['commit-message'] ? { commit_messages: flags['commit-message'] } : {}),
    // Locally you vouch for what GitHub would: that the diff is the exact inverse of this commit.
    ...(flags['revert-of'] !== undefined
      ? {
          revert_evidence: {
            kind: 'inverse-diff' as const,
            reverts: flags['revert-of'],
            files: files.length,
          },
        }
      : {}),
  };
}
