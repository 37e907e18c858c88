/** The logging the bot needs: Probot's pino logger fits, and tests pass a collecting one. */
export interface BotLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Adapts a pino-style logger, whose methods take (obj, msg) or (msg). */
export function fromPino(log: {
  info: (m: string) => void;
  warn: (m: string) => void;
  error: (m: string) => void;
}): BotLog {
  return { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) };
}

export function collectingLog(): BotLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
  };
}
