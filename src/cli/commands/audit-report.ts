import { parseArgs } from 'node:util';
import { type AuditRecord, verifyChain } from '../../policy/overrides/audit-chain.ts';
import { literal, literalCode } from '../../report/markdown-text.ts';
import { readText } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';

export const AUDIT_REPORT_USAGE = `budget-gate audit report FILE|- [--since DATE] [--repeated N] [--json]

What the next retro needs from the override audit log (fetch it with
  git show origin/budget-gate/audit:audit.jsonl > audit.jsonl):
exceptions by reason, approver and SLO; refused attempts; reverts that passed a pause; and SLOs
whose overrides say slo-wrong N times or more (default 2): renegotiate the SLO, not the gate.
The hash chain is verified first; a broken chain is reported instead of the retro.

exit 0 report printed, 1 the chain is broken, 2 unreadable`;

/** The fields the retro reads; the rest of a record (its hash chain) is verifyChain's business. */
type Rec = Pick<
  AuditRecord,
  | 'seq'
  | 'kind'
  | 'repo'
  | 'pull_request'
  | 'label'
  | 'reason'
  | 'actor'
  | 'at'
  | 'state'
  | 'message'
  | 'slos'
>;

interface AuditRetro {
  records: number;
  since: string | null;
  exceptions: Rec[];
  by_reason: Record<string, number>;
  by_approver: Record<string, number>;
  by_slo: Record<string, number>;
  refused: Rec[];
  reverts: Rec[];
  slo_wrong: Array<{ slo: string; count: number; dates: string[] }>;
}

const bump = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

/** The SLOs an exception was about: those not shipping when it was used (all of them if none). */
const slosOf = (r: Rec) => {
  const paused = r.slos.filter((s) => s.state !== 'ship').map((s) => s.name);
  return paused.length ? paused : r.slos.map((s) => s.name);
};

function auditRetro(records: Rec[], since: number | null, repeated: number): AuditRetro {
  const inPeriod = records.filter((r) => since === null || Date.parse(r.at) >= since);
  const isRevert = (r: Rec) => r.kind.includes('revert') || r.reason === 'revert';
  const exceptions = inPeriod.filter((r) => r.kind === 'override-applied' && !isRevert(r));
  const out: AuditRetro = {
    records: inPeriod.length,
    since: since === null ? null : new Date(since).toISOString(),
    exceptions,
    by_reason: {},
    by_approver: {},
    by_slo: {},
    refused: inPeriod.filter((r) => r.kind === 'override-refused'),
    reverts: inPeriod.filter((r) => isRevert(r) && r.state !== 'ship'),
    slo_wrong: [],
  };
  const wrong = new Map<string, string[]>();
  for (const r of exceptions) {
    bump(out.by_reason, r.reason ?? '(none)');
    bump(out.by_approver, r.actor ?? '(unknown)');
    for (const s of slosOf(r)) {
      bump(out.by_slo, s);
      if (r.reason === 'slo-wrong') wrong.set(s, [...(wrong.get(s) ?? []), r.at.slice(0, 10)]);
    }
  }
  out.slo_wrong = [...wrong]
    .filter(([, dates]) => dates.length >= repeated)
    .map(([slo, dates]) => ({ slo, count: dates.length, dates }))
    .sort((a, b) => b.count - a.count);
  return out;
}

const table = (m: Record<string, number>) =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `| ${literal(k)} | ${n} |`);

// Every field of a record is written with `literal` (or `literalCode`): the log is a file anyone
// with push access to its branch can write, and the report is read as Markdown (a PR comment, a
// retro doc). It renders back to exactly the records' text (test/cli/audit-report-render.test.ts).
const where = (r: Rec) => `${literal(r.repo)}${r.pull_request !== null ? `#${r.pull_request}` : ''}`;
const when = (r: Rec) => literal(r.at.slice(0, 16));
const by = (actor: string | null) => (actor === null ? 'by (unknown)' : `by @${literal(actor)}`);

function renderRetro(r: AuditRetro, file: string, head: string): string {
  const out = [
    `# Exception retro${r.since ? ` since ${r.since.slice(0, 10)}` : ''}`,
    '',
    `${literal(file)}: chain intact${head}; ${r.records} record${r.records === 1 ? '' : 's'} in the period.`,
    '',
    `## Exceptions (${r.exceptions.length})`,
  ];
  if (r.exceptions.length) {
    out.push('', '| reason | uses |', '| --- | --- |', ...table(r.by_reason));
    out.push('', '| approver | uses |', '| --- | --- |', ...table(r.by_approver));
    out.push('', '| SLO | uses |', '| --- | --- |', ...table(r.by_slo), '');
    for (const e of r.exceptions)
      out.push(
        `- ${when(e)} ${where(e)} ${literalCode(e.label)} ${by(e.actor)} in ${e.state}: ${literal(e.message)}`,
      );
  } else out.push('', 'None: nothing went through a pause by override.');
  out.push('', `## Refused attempts (${r.refused.length})`, '');
  if (r.refused.length)
    for (const e of r.refused)
      out.push(`- ${when(e)} ${where(e)} ${literalCode(e.label)} ${by(e.actor)}: ${literal(e.message)}`);
  else out.push('None.');
  out.push('', `## Reverts that passed a pause (${r.reverts.length})`, '');
  if (r.reverts.length)
    for (const e of r.reverts) out.push(`- ${when(e)} ${where(e)} in ${e.state}: ${literal(e.message)}`);
  else out.push('None recorded.');
  out.push('', '## SLOs overridden as slo-wrong again and again', '');
  if (r.slo_wrong.length)
    for (const s of r.slo_wrong)
      out.push(
        `- **${literal(s.slo)}**: ${s.count} slo-wrong overrides (${s.dates.map(literal).join(', ')}). The team keeps saying the SLO is wrong: renegotiate its target or scope, rather than overriding the gate.`,
      );
  else out.push('None.');
  return `${out.join('\n')}\n`;
}

export async function auditReportCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      since: { type: 'string' },
      repeated: { type: 'string', default: '2' },
      json: { type: 'boolean' },
    },
  });
  const file = positionals[0];
  if (!file) throw new CliError(`usage: ${AUDIT_REPORT_USAGE.split('\n')[0]}`);
  let since: number | null = null;
  if (values.since !== undefined) {
    since = Date.parse(values.since);
    if (Number.isNaN(since))
      throw new CliError(`--since ${values.since}: expected a date such as 2026-10-01`);
  }
  const repeated = Number(values.repeated);
  if (!Number.isInteger(repeated) || repeated < 1)
    throw new CliError(`--repeated ${values.repeated}: expected a whole number, 1 or more`);
  const text = await readText(io, file, 'audit log');
  const v = verifyChain(text);
  if (!v.ok) {
    io.stdout(
      `${file}:${v.line}: ${v.problem}\nThe chain is broken: no retro from a log that cannot be trusted.\n`,
    );
    return EXIT.blocked;
  }
  // verifyChain has parsed every record against the schema: the retro reads those.
  const retro = auditRetro(v.records, since, repeated);
  const head = v.last ? `, head #${v.last.seq} ${v.last.hash.slice(0, 12)}…` : '';
  io.stdout(values.json ? `${JSON.stringify(retro, null, 2)}\n` : renderRetro(retro, file, head));
  return EXIT.allowed;
}
