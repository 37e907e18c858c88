export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
  now: () => number;
  /** Reads standard input to the end (`--changed-files -`). */
  stdin?: () => Promise<string>;
  /** Waits (a drill polling for its acknowledgement); tests pass one that moves their clock. */
  sleep?: (ms: number) => Promise<void>;
  /** Standard error is a terminal: long runs show their progress there (src/cli/progress.ts). */
  stderrIsTTY?: boolean;
  /** Stops a command that serves until Ctrl-C (`dashboard`) from inside the process (tests). */
  signal?: AbortSignal;
}

/** Policies, change lists and audit logs are read whole: past this a file is not one of them. */
export const MAX_TEXT_BYTES = 64 << 20;

/** Exit statuses are a contract (DESIGN.md "CLI"). */
/** 70 is sysexits' EX_SOFTWARE: a bug, told apart from a verdict (1) and from bad input (2). */
export const EXIT = { allowed: 0, blocked: 1, invalid: 2, internal: 70 } as const;

/** Bad flags, unreadable files, malformed policy or telemetry: exit 2 with the message on stderr. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}
