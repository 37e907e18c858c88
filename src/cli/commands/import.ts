import { parseArgs } from 'node:util';
import { ImportError, type ImportResult, uniqueNames } from '../../import/model.ts';
import { importOpenSlo } from '../../import/openslo.ts';
import { policyYaml } from '../../import/policy.ts';
import { importPyrra } from '../../import/pyrra.ts';
import { importSloth } from '../../import/sloth.ts';
import {
  formatProblem,
  loadPolicy,
  MAX_POLICY_BYTES,
  PolicyError,
  type PolicyProblem,
} from '../../policy/spec/load.ts';
import { windowString } from '../../policy/spec/schema.ts';
import { readText, writeOutput } from '../inputs.ts';
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
  const admittedPolicy = admitted(result, tool, files, io);
  if (admittedPolicy === null) {
    io.stderr(`budget-gate import: no SLO in ${files.join(', ')} could be imported\n`);
    return EXIT.invalid;
  }
  const { text, count } = admittedPolicy;
  if (values.out) {
    // `--out .github/error-budget.yml` in a repository that has no .github yet, as the README does.
    await writeOutput(io, values.out, text, '--out', { makeParents: true });
    io.stderr(`budget-gate import: ${count} SLO${count === 1 ? '' : 's'} written to ${values.out}\n`);
  } else io.stdout(text);
  return EXIT.allowed;
}

/**
 * The imported SLOs as a policy `lint` accepts, or null when none is left. An SLO the policy
 * refuses (a window longer than a year or shorter than an hour, say) is not imported, with the
 * policy's reason; a policy past the size a policy may have is refused whole, saying how to split it.
 * Anything else the loader refuses is a bug here, said in one line with the loader's reason.
 */
function admitted(
  result: ImportResult,
  tool: string,
  files: string[],
  io: CliIo,
): { text: string; count: number } | null {
  let slos = result.slos;
  const skipped = [...result.skipped];
  for (;;) {
    if (slos.length === 0) {
      for (const s of skipped) io.stderr(`budget-gate import: not imported: ${s.origin}: ${s.why}\n`);
      return null;
    }
    const text = policyYaml({ slos, skipped }, tool, files);
    if (text.length > MAX_POLICY_BYTES)
      throw new CliError(
        `${slos.length} SLOs make a policy of ${text.length} characters, more than the ${MAX_POLICY_BYTES} a policy may have: import fewer specs at a time, into several policies`,
      );
    let problems: PolicyProblem[];
    try {
      loadPolicy(text, 'imported policy');
      for (const s of skipped) io.stderr(`budget-gate import: not imported: ${s.origin}: ${s.why}\n`);
      return { text, count: slos.length };
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      problems = e.problems;
    }
    const refused = new Map<number, string>();
    for (const p of problems) {
      const m = /^slos\[(\d+)\]\.?(.*)$/.exec(p.path);
      // A problem of the whole policy caused by one SLO names it in its message (the default
      // pace_lookback of 1d against an SLO's 1h window): that SLO is not imported, with the reason.
      const named = m ? null : /\bslos\[(\d+)\]/.exec(p.message);
      const i = m ? Number(m[1]) : named ? Number(named[1]) : -1;
      if (!slos[i]) {
        throw new Error(
          `import produced a policy lint refuses (a budget-gate bug): ${formatProblem(p).replace(/\s+/g, ' ')}`,
        );
      }
      if (!refused.has(i))
        refused.set(i, m ? `${m[2] || 'the SLO'}: ${p.message}` : `${p.path}: ${p.message}`);
    }
    skipped.push(...[...refused].map(([i, why]) => ({ origin: slos[i]!.origin, why })));
    slos = slos.filter((_, i) => !refused.has(i));
  }
}
