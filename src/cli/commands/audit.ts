import { parseArgs } from 'node:util';
import { checkHead } from '../../policy/overrides/audit-anchor.ts';
import { verifyChain } from '../../policy/overrides/audit-chain.ts';
import { readText } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';

export const AUDIT_USAGE = `budget-gate audit verify FILE|- [--head SHA256]

Checks an override audit log byte for byte: every line must be the canonical form of its record,
and every record must chain to the one before (fetch the log with
  git show origin/budget-gate/audit:audit.jsonl > audit.jsonl).
--head is the last hash anchored outside the branch (the "budget-gate audit anchor" check run):
the chain must end there, so removed newest records and a recomputed chain are caught too.
exit 0 intact, 1 the first line at fault is reported, 2 unreadable or bad flags`;

export async function auditCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { head: { type: 'string' } },
  });
  const [sub, file] = positionals;
  if (sub !== 'verify' || !file || positionals.length > 2)
    throw new CliError(`usage: ${AUDIT_USAGE.split('\n')[0]}`);
  const head = values.head?.toLowerCase();
  if (head !== undefined && !/^[0-9a-f]{64}$/.test(head))
    throw new CliError(`--head ${values.head}: expected a SHA-256 hash (64 hex digits), the anchored head`);
  const text = await readText(io, file, 'audit log');
  const result = verifyChain(text);
  if (!result.ok) {
    io.stdout(`${file}:${result.line}: ${result.problem}\n`);
    return EXIT.blocked;
  }
  if (head !== undefined) {
    const problem = checkHead(result.records, head);
    if (problem) {
      io.stdout(`${file}: ${problem}\n`);
      return EXIT.blocked;
    }
  }
  const last = result.last ? `; head #${result.last.seq} ${result.last.hash}` : '';
  const anchored = head !== undefined ? ', ends at the expected head' : '';
  io.stdout(
    `${file}: ok — ${result.count} record${result.count === 1 ? '' : 's'}, chain intact${anchored}${last}\n`,
  );
  return EXIT.allowed;
}
