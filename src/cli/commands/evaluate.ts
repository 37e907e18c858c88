import { parseArgs } from 'node:util';
import { evaluateChange } from '../../gate/evaluate-change.ts';
import { renderText } from '../../report/text.ts';
import { localChangeFacts } from '../change-facts.ts';
import { CHANGE_OPTIONS, changeFromFlags } from '../change-flags.ts';
import { parseAt, readPolicy } from '../inputs.ts';
import { type CliIo, EXIT } from '../io.ts';
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
  --revert                   the change reverts an earlier deploy (always allowed)

  --at TIME                  evaluate as of this ISO-8601 time (default: now)
  --json                     print the decision JSON instead of the report

exit 0 allowed, 1 blocked, 2 invalid input or unreadable telemetry`;

export async function evaluateCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...SOURCE_OPTIONS,
      ...CHANGE_OPTIONS,
      at: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
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
  io.stdout(values.json ? `${JSON.stringify(decision, null, 2)}\n` : renderText(decision));
  if (telemetryError) {
    io.stderr(`budget-gate: ${telemetryError.message}\n`);
    return EXIT.invalid;
  }
  return decision.allowed ? EXIT.allowed : EXIT.blocked;
}
