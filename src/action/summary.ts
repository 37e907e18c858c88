import type { AppendResult } from '../github/audit-log.ts';

/** The audit record an override wrote, for the job summary: where it is and what it says. */
export function auditSection(audit: AppendResult | null, branch: string, path: string): string {
  if (!audit) return '';
  const r = audit.record;
  const where = `\`${path}\` on branch \`${branch}\``;
  const head = audit.duplicate
    ? `This override was already recorded as #${r.seq} in ${where} (a re-run): nothing new was written.`
    : `Exception recorded as #${r.seq} in ${where}${audit.commit_sha ? ` (commit ${audit.commit_sha.slice(0, 7)})` : ''}, chained to the previous record by SHA-256.`;
  return ['', '#### Audit log', '', head, '', '```json', JSON.stringify(r, null, 2), '```', ''].join('\n');
}
