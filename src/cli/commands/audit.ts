import { verifyChain } from '../../policy/audit.ts';
import { readText } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';

export const AUDIT_USAGE = `budget-gate audit verify FILE|-

Checks the hash chain of an override audit log (fetch it with
  git show origin/budget-gate/audit:audit.jsonl > audit.jsonl).
exit 0 intact, 1 the first edited, reordered or missing record is reported, 2 unreadable`;

export async function auditCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, file] = argv;
  if (sub !== 'verify' || !file) throw new CliError(`usage: ${AUDIT_USAGE.split('\n')[0]}`);
  const text = await readText(io, file, 'audit log');
  const result = verifyChain(text);
  if (result.ok) {
    const head = result.last ? `; head #${result.last.seq} ${result.last.hash.slice(0, 12)}…` : '';
    io.stdout(`${file}: ok — ${result.count} record${result.count === 1 ? '' : 's'}, chain intact${head}\n`);
    return EXIT.allowed;
  }
  io.stdout(`${file}:${result.line}: ${result.problem}\n`);
  return EXIT.blocked;
}
