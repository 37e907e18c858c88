import { InputFileError } from '../repo/read-input.ts';
import { CliError, type CliIo, EXIT } from './io.ts';

interface Command {
  run: (argv: string[], io: CliIo) => Promise<number>;
  usage: string;
}

// Each command is loaded when it is run: `lint` does not parse the simulator, the chart renderers
// or the importers (in the bundle, each is its own chunk), so a short command starts fast.
const COMMANDS: Record<string, () => Promise<Command>> = {
  evaluate: async () => {
    const m = await import('./commands/evaluate.ts');
    return { run: m.evaluateCommand, usage: m.EVALUATE_USAGE };
  },
  lint: async () => {
    const m = await import('./commands/lint.ts');
    return { run: m.lintCommand, usage: m.LINT_USAGE };
  },
  simulate: async () => {
    const m = await import('./commands/simulate.ts');
    return { run: m.simulateCommand, usage: m.SIMULATE_USAGE };
  },
  canary: async () => {
    const m = await import('./commands/canary.ts');
    return { run: m.canaryCommand, usage: m.CANARY_USAGE };
  },
  audit: async () => {
    const [a, r] = await Promise.all([import('./commands/audit.ts'), import('./commands/audit-report.ts')]);
    return {
      run: (argv, io) =>
        argv[0] === 'report' ? r.auditReportCommand(argv.slice(1), io) : a.auditCommand(argv, io),
      usage: `${a.AUDIT_USAGE}\n\n${r.AUDIT_REPORT_USAGE}`,
    };
  },
  oncall: async () => {
    const m = await import('./commands/oncall.ts');
    return { run: m.oncallCommand, usage: m.ONCALL_USAGE };
  },
  runbooks: async () => {
    const m = await import('./commands/runbooks.ts');
    return { run: m.runbooksCommand, usage: m.RUNBOOKS_USAGE };
  },
  drill: async () => {
    const m = await import('./commands/drill.ts');
    return { run: m.drillCommand, usage: m.DRILL_USAGE };
  },
  handoff: async () => {
    const m = await import('./commands/handoff.ts');
    return { run: m.handoffCommand, usage: m.HANDOFF_USAGE };
  },
  readiness: async () => {
    const m = await import('./commands/readiness.ts');
    return { run: m.readinessCommand, usage: m.READINESS_USAGE };
  },
  import: async () => {
    const m = await import('./commands/import.ts');
    return { run: m.importCommand, usage: m.IMPORT_USAGE };
  },
  demo: async () => {
    const m = await import('./commands/demo.ts');
    return {
      run: m.demoCommand,
      usage: 'budget-gate demo\n\nGates two changes against the bundled example.',
    };
  },
  dashboard: async () => {
    const m = await import('./commands/dashboard.ts');
    return { run: m.dashboardCommand, usage: m.DASHBOARD_USAGE };
  },
};

/** Every command, in the order `budget-gate --help` lists them (docs/cli.md has a section for each). */
export const COMMAND_NAMES = Object.keys(COMMANDS);

const USAGE = `budget-gate — error budgets that steer deploys

usage: budget-gate <command> [options]

  evaluate   gate a change: SHIP, SOFT-PAUSE or HARD-PAUSE, and why
  lint       validate a policy file
  simulate   play a 30-day scenario (healthy, rising, on-fire)
  canary     the auto-revert check for one deployment
  audit      verify the override audit log's hash chain; report for the exception retro
  oncall     who is on call now; page what a decision calls for
  runbooks   lint every alert's runbook: concrete steps, recent drills
  drill      page the rotation with a marked test page, wait for the acknowledgement, record it
  handoff    the shift-change summary (Markdown) since a time
  readiness  NOT YET, SOFT-LAUNCH ONLY or PRODUCTION-READY, from the repository's files
  import     turn OpenSLO, Sloth or Pyrra specs into a policy
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
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    io.stderr(`budget-gate: unknown command ${name}\n\n${USAGE}\n`);
    return EXIT.invalid;
  }
  const command = await load();
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
function unexpected(command: string, e: unknown): string {
  const what = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
  const shown = what.length > 300 ? `${what.slice(0, 300)}…` : what;
  return `budget-gate ${command}: unexpected failure (${shown}): ${PLEASE_REPORT}, with the command that printed it`;
}
