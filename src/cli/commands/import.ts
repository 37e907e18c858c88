import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ImportError, type ImportResult, uniqueNames } from '../../import/model.ts';
import { importOpenSlo } from '../../import/openslo.ts';
import { policyYaml } from '../../import/policy.ts';
import { importPyrra } from '../../import/pyrra.ts';
import { importSloth } from '../../import/sloth.ts';
import { formatProblem, loadPolicy, PolicyError } from '../../policy/spec/load.ts';
import { windowString } from '../../policy/spec/schema.ts';
import { readText } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';
import { progress } from '../progress.ts';

export const IMPORT_USAGE = `budget-gate import (openslo | sloth | pyrra) FILE... [--window 30d] [--out FILE]

Turns SLO specs you already have into a budget-gate policy, printed (or written to --out):
  openslo   OpenSLO v1 (and v1alpha, and osko's openslo.com/v1) SLO, SLI and DataSource objects:
            ratio metrics with Prometheus-compatible good/bad/total queries, composite SLOs (one
            policy SLO per objective), Occurrences budgeting, rolling or calendar windows
  sloth     Sloth prometheus/v1 service specs and (Managed)PrometheusServiceLevel resources:
            error_query and total_query (a ratio over a constant total reads Sloth's recording
            rules), objective, page/ticket alerting mapped to severities with their runbooks
  pyrra     Pyrra ServiceLevelObjective (pyrra.dev/v1alpha1) resources: ratio and latency
            indicators, target, window
Each SLO keeps a comment saying where it came from. The policy gets starting risk rules (prompts,
models, model config: adjust them). What cannot be carried over (timeslices budgeting, raw or
threshold metrics, other data sources, SLI plugins) is named on stderr and in the file's header.
--window: for specs without one (Sloth's default period, 30d).
exit 0 at least one SLO imported, 2 none, or an unreadable file`;

export async function importCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { window: { type: 'string', default: '30d' }, out: { type: 'string' } },
  });
  const [tool, ...files] = positionals;
  if (tool !== 'openslo' && tool !== 'sloth' && tool !== 'pyrra')
    throw new CliError(`expected openslo, sloth or pyrra, then the spec files\n\n${IMPORT_USAGE}`);
  if (files.length === 0) throw new CliError(`import ${tool}: give at least one spec file`);
  if (!windowString.safeParse(values.window).success)
    throw new CliError(`--window ${values.window}: expected a rolling window such as 30d, or week or month`);
  const opts = { defaultWindow: values.window };
  const shown = progress(io, `import ${tool}:`);
  const specs: { file: string; text: string }[] = [];
  for (const [i, file] of files.entries()) {
    specs.push({ file, text: await readText(io, file, `${tool} spec`) });
    shown.update((i + 1) / files.length, `${i + 1} of ${files.length} files read`);
  }
  shown.done();

  let result: ImportResult;
  try {
    if (tool === 'openslo') result = importOpenSlo(specs, opts);
    else {
      result = { slos: [], skipped: [] };
      const one = tool === 'sloth' ? importSloth : importPyrra;
      for (const s of specs) {
        const r = one(s.text, s.file, opts);
        result.slos.push(...r.slos);
        result.skipped.push(...r.skipped);
      }
    }
  } catch (e) {
    if (e instanceof ImportError) throw new CliError(e.message);
    throw e;
  }
  result = { ...result, slos: uniqueNames(result.slos) };
  for (const s of result.skipped) io.stderr(`budget-gate import: not imported: ${s.origin}: ${s.why}\n`);
  if (result.slos.length === 0) {
    io.stderr(`budget-gate import: no SLO in ${files.join(', ')} could be imported\n`);
    return EXIT.invalid;
  }

  const text = policyYaml(result, tool, files);
  // The output must be a policy `lint` accepts; if it is not, that is a bug here, said plainly.
  try {
    loadPolicy(text, values.out ?? 'imported policy');
  } catch (e) {
    if (e instanceof PolicyError)
      throw new Error(
        `import produced a policy lint refuses (a budget-gate bug):\n${e.problems.map(formatProblem).join('\n')}`,
      );
    throw e;
  }
  if (values.out) {
    // `--out .github/error-budget.yml` in a repository that has no .github yet, as the README does.
    const out = resolve(io.cwd, values.out);
    try {
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, text);
    } catch (e) {
      throw new CliError(
        `--out ${values.out}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    io.stderr(
      `budget-gate import: ${result.slos.length} SLO${result.slos.length === 1 ? '' : 's'} written to ${values.out}\n`,
    );
  } else io.stdout(text);
  return EXIT.allowed;
}
