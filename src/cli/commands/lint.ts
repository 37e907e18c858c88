import {
  DEFAULT_POLICY_PATH,
  formatProblem,
  loadPolicy,
  MAX_POLICY_BYTES,
  PolicyError,
} from '../../policy/spec/load.ts';
import { readText } from '../inputs.ts';
import { type CliIo, EXIT } from '../io.ts';

export const LINT_USAGE = `budget-gate lint FILE...

Validates error-budget policies: every problem names file:line:col, the key and what was expected.
exit 0 valid (warnings allowed), 2 invalid`;

export async function lintCommand(argv: string[], io: CliIo): Promise<number> {
  const files = argv.filter((a) => !a.startsWith('-'));
  if (files.length === 0) files.push(DEFAULT_POLICY_PATH);
  let status: number = EXIT.allowed;
  for (const file of files) {
    const text = await readText(io, file, 'policy', MAX_POLICY_BYTES);
    try {
      const loaded = loadPolicy(text, file);
      const { policy } = loaded;
      const warnings = [...loaded.warnings, ...loaded.advice].sort(
        (a, b) => a.line - b.line || a.col - b.col,
      );
      for (const w of warnings) io.stderr(`${formatProblem(w)} (warning)\n`);
      io.stdout(
        `${file}: ok — ${policy.slos.length} SLO${policy.slos.length === 1 ? '' : 's'} (${policy.slos.map((s) => s.name).join(', ')})${warnings.length ? `, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}` : ''}\n`,
      );
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      io.stderr(`${e.message}\n`);
      status = EXIT.invalid;
    }
  }
  return status;
}
