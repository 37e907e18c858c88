import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { assessReadiness, renderReadiness } from '../../policy/readiness/verdict.ts';
import { REPO_OPTIONS, repoFiles } from '../../repo/files.ts';
import { parseAt } from '../inputs.ts';
import { type CliIo, EXIT } from '../io.ts';

export const READINESS_USAGE = `budget-gate readiness [--policy FILE] [--root DIR] [--at TIME] [--json]

Scores the repository on five gates, each judged from its files: written SLOs, an error-budget
policy, a live on-call rotation, concrete and drilled runbooks for the top 3 alerts, and a
postmortem ritual (a template, and postmortems that end in a runbook change, a new runbook or a
drill-schedule change). 0-2 NOT YET, 3-4 SOFT-LAUNCH ONLY, 5 PRODUCTION-READY.

exit 0 PRODUCTION-READY, 1 otherwise, 2 invalid input`;

export async function readinessCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: REPO_OPTIONS,
  });
  const r = assessReadiness(repoFiles(resolve(io.cwd, values.root)), values.policy, parseAt(io, values.at));
  io.stdout(values.json ? `${JSON.stringify(r, null, 2)}\n` : renderReadiness(r));
  return r.verdict === 'PRODUCTION-READY' ? EXIT.allowed : EXIT.blocked;
}
