import { parseRow, type Watch, watchStatus } from '../policy/canary/ports.ts';

// A stored row as a Watch, by hand: a tick reads every live row, and the schema's parse cost more
// than the judging of some watches. The checks are the schema's (ports.ts) for the values the stores
// give (numbers, or digit strings for PostgreSQL's BIGINT); anything else goes to the schema, which
// decides it the same way and says what is wrong.

type Row = Record<string, unknown>;

const STATUSES: ReadonlySet<string> = new Set(watchStatus.options);

/** Thrown past the fast path: the schema then parses the row. */
const UNUSUAL = Symbol('unusual');

function int(v: unknown): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,15}$/.test(v)) return Number(v);
  throw UNUSUAL;
}
const intOrNull = (v: unknown): number | null => (v === null ? null : int(v));
function str(v: unknown): string {
  if (typeof v === 'string') return v;
  throw UNUSUAL;
}
const strOrNull = (v: unknown): string | null => (v === null ? null : str(v));

/** `policyText`: the row's text when it names one by hash (migration 8), else the row's own. */
export function readWatch(row: Row, policyText?: string): Watch {
  let w: Watch;
  try {
    const status = str(row.status);
    if (!STATUSES.has(status)) throw UNUSUAL;
    w = {
      deployment_id: int(row.deployment_id),
      owner: str(row.owner),
      repo: str(row.repo),
      installation_id: int(row.installation_id),
      environment: str(row.environment),
      sha: str(row.sha),
      previous_sha: strOrNull(row.previous_sha),
      previous_deployment_id: intOrNull(row.previous_deployment_id),
      default_branch: str(row.default_branch),
      deployed_at: int(row.deployed_at),
      pull_number: intOrNull(row.pull_number),
      pull_title: strOrNull(row.pull_title),
      policy_text: str(row.policy_text),
      policy_path: str(row.policy_path),
      status: status as Watch['status'],
      last_checked_at: intOrNull(row.last_checked_at),
      evidence: strOrNull(row.evidence),
      revert_pr: intOrNull(row.revert_pr),
      reason: strOrNull(row.reason),
      lease_owner: strOrNull(row.lease_owner),
      lease_until: intOrNull(row.lease_until),
      revert_attempts: row.revert_attempts === undefined ? 0 : int(row.revert_attempts),
      revert_next_at: row.revert_next_at === undefined ? null : intOrNull(row.revert_next_at),
      revert_progress: row.revert_progress === undefined ? null : strOrNull(row.revert_progress),
      last_error: row.last_error === undefined ? null : strOrNull(row.last_error),
      created_at: int(row.created_at),
      updated_at: int(row.updated_at),
    };
  } catch (e) {
    if (e !== UNUSUAL) throw e;
    w = parseRow(row);
  }
  if (policyText !== undefined) w.policy_text = policyText;
  return w;
}
