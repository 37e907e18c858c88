import { parseArgs } from 'node:util';
import { evaluateChange } from '../../gate/evaluate-change.ts';
import { chooseFormat, renderDecision } from '../../report/render.ts';
import { localChangeFacts } from '../change-facts.ts';
import { CHANGE_OPTIONS, changeFromFlags } from '../change-flags.ts';
import { parseAt, readPolicy } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';
import { openTelemetry, SOURCE_OPTIONS } from '../telemetry.ts';

export const EVALUATE_USAGE = `budget-gate evaluate --policy FILE (--telemetry FILE | --prometheus URL) [options]

  --policy FILE              error-budget policy (default .github/error-budget.yml)
  --telemetry FILE|-         JSONL task records, plain or gzipped
  --skip-bad-lines           count malformed telemetry lines and go on, instead of failing
  --prometheus URL           a Prometheus-compatible HTTP API (or BUDGET_GATE_PROMETHEUS_URL);
                             auth from BUDGET_GATE_PROMETHEUS_TOKEN / _USER + _PASSWORD
  --prometheus-header 'K: V' extra header, repeatable (e.g. 'X-Scope-OrgID: team-a')
  --prometheus-timeout DUR   per-request timeout (default 10s)

The change (every fact the Action gathers in GitHub):
  --change FILE|-            all of them as JSON: the Action's \`change\` output replays its decision
  --changed-files FILE|-     paths the change touches, one per line (git diff --name-only)
  --labels a,b               labels on the change, e.g. override:slo-wrong
  --applied-by USER          who applied the labels (with --applier-teams org/t, --applier-permission P)
  --applied-at TIME          when the labels were applied (default: --at)
  --author USER              the change's author (an override by its author is refused)
  --last-push-at TIME        the change's last push (an override applied before it is refused)
  --title TEXT               the pull request's title
  --head-ref BRANCH          the pull request's head branch
  --commit-message TEXT      a commit message the change brings, repeatable
  --revert-of SHA            GitHub shows the change is the exact inverse of commit SHA: a revert,
                             which always passes (a title, branch or commit message alone never does)

  --at TIME                  evaluate as of this ISO-8601 time (default: now)
  --format text|markdown|json  text for a terminal (default); markdown: the job summary exactly
                             as the Action writes it; json: the decision object
  --json                     the same as --format json

exit 0 allowed, 1 blocked, 2 invalid input or unreadable telemetry`;

export async function evaluateCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...SOURCE_OPTIONS,
      ...CHANGE_OPTIONS,
      at: { type: 'string' },
      json: { type: 'boolean' },
      format: { type: 'string' },
    },
  });
  const chosen = chooseFormat(values.format, values.json);
  if ('error' in chosen) throw new CliError(chosen.error);
  const loaded = await readPolicy(io, values.policy);
  const at = parseAt(io, values.at);
  const change = await changeFromFlags(io, values, at);
  const source = await openTelemetry(io, values);
  const { decision, telemetryError } = await evaluateChange({
    loaded,
    at,
    source,
    facts: localChangeFacts(change),
    audit: null,
    repo: null,
    origin: 'cli',
  });
  io.stdout(renderDecision(decision, chosen.format, { workspace: io.cwd }));
  if (telemetryError) {
    io.stderr(`budget-gate: ${telemetryError.message}\n`);
    return EXIT.invalid;
  }
  return decision.allowed ? EXIT.allowed : EXIT.blocked;
}
