import { InputFileError } from '../repo/read-input.ts';
import { AUDIT_USAGE, auditCommand } from './commands/audit.ts';
import { AUDIT_REPORT_USAGE, auditReportCommand } from './commands/audit-report.ts';
import { CANARY_USAGE, canaryCommand } from './commands/canary.ts';
import { DASHBOARD_USAGE, dashboardCommand } from './commands/dashboard.ts';
import { demoCommand } from './commands/demo.ts';
import { EVALUATE_USAGE, evaluateCommand } from './commands/evaluate.ts';
import { HANDOFF_USAGE, handoffCommand } from './commands/handoff.ts';
import { IMPORT_USAGE, importCommand } from './commands/import.ts';
import { LINT_USAGE, lintCommand } from './commands/lint.ts';
import { ONCALL_USAGE, oncallCommand } from './commands/oncall.ts';
import { READINESS_USAGE, readinessCommand } from './commands/readiness.ts';
import { RUNBOOKS_USAGE, runbooksCommand } from './commands/runbooks.ts';
import { SIMULATE_USAGE, simulateCommand } from './commands/simulate.ts';
import { CliError, type CliIo, EXIT } from './io.ts';

const COMMANDS: Record<string, { run: (argv: string[], io: CliIo) => Promise<number>; usage: string }> = {
  evaluate: { run: evaluateCommand, usage: EVALUATE_USAGE },
  lint: { run: lintCommand, usage: LINT_USAGE },
  simulate: { run: simulateCommand, usage: SIMULATE_USAGE },
  canary: { run: canaryCommand, usage: CANARY_USAGE },
  audit: {
    run: (argv, io) =>
      argv[0] === 'report' ? auditReportCommand(argv.slice(1), io) : auditCommand(argv, io),
    usage: `${AUDIT_USAGE}\n\n${AUDIT_REPORT_USAGE}`,
  },
  oncall: { run: oncallCommand, usage: ONCALL_USAGE },
  runbooks: { run: runbooksCommand, usage: RUNBOOKS_USAGE },
  handoff: { run: handoffCommand, usage: HANDOFF_USAGE },
  readiness: { run: readinessCommand, usage: READINESS_USAGE },
  import: { run: importCommand, usage: IMPORT_USAGE },
  dashboard: { run: dashboardCommand, usage: DASHBOARD_USAGE },
  demo: { run: demoCommand, usage: 'budget-gate demo\n\nGates two changes against the bundled example.' },
};

const USAGE = `budget-gate — error budgets that steer deploys

usage: budget-gate <command> [options]

  evaluate   gate a change: SHIP, SOFT-PAUSE or HARD-PAUSE, and why
  lint       validate a policy file
  simulate   play a 30-day scenario (healthy, rising, on-fire)
  canary     the auto-revert check for one deployment
  audit      verify the override audit log's hash chain; report for the exception retro
  oncall     who is on call now; page what a decision calls for
  runbooks   lint every alert's runbook: concrete steps, recent drills
  handoff    the shift-change summary (Markdown) since a time
  readiness  NOT YET, SOFT-LAUNCH ONLY or PRODUCTION-READY, from the repository's files
  import     turn OpenSLO or Sloth specs into a policy
  dashboard  serve the budgets, burn and alerts of one policy and telemetry file in the browser
  demo       run the bundled example

budget-gate <command> --help for its options. exit 0 allowed, 1 blocked, 2 invalid input or unreachable telemetry, 70 an internal failure (a bug)`;

export type { CliIo };

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(`${USAGE}\n`);
    return name ? EXIT.allowed : EXIT.invalid;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`budget-gate: unknown command ${name}\n\n${USAGE}\n`);
    return EXIT.invalid;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.usage}\n`);
    return EXIT.allowed;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    // parseArgs throws TypeErrors with codes for unknown or malformed flags.
    const code = (e as { code?: string }).code;
    if (e instanceof CliError || e instanceof InputFileError || code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`budget-gate ${name}: ${(e as Error).message}\n`);
      return EXIT.invalid;
    }
    io.stderr(`${unexpected(name, e)}\n`);
    return EXIT.internal;
  }
}

/** Marks the one line an unexpected failure prints; the fuzz tests fail if they ever see it. */
export const PLEASE_REPORT = 'please report this';

/**
 * Anything no check above named: a bug, not the user's input. One line, no stack (a stack says
 * nothing to the person running a gate), and where to send it.
 */
export function unexpected(command: string, e: unknown): string {
  const what = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
  const shown = what.length > 300 ? `${what.slice(0, 300)}…` : what;
  return `budget-gate ${command}: unexpected failure (${shown}): ${PLEASE_REPORT}, with the command that printed it`;
}
