import type { CliIo } from './io.ts';

// Progress for long runs (`simulate --fleet`, imports of many files), on standard error and only
// at a terminal: a pipe or a log gets the result alone, never carriage returns.

export interface Progress {
  /** `fraction` of the work done (0..1), with an optional word on what. */
  update(fraction: number, detail?: string): void;
  /** Clears the line, before the result is printed. */
  done(): void;
}

const QUIET: Progress = { update() {}, done() {} };
/** Redraws at most this often: a terminal repainted per task would slow the run it reports. */
const EVERY_MS = 200;

export function progress(io: CliIo, label: string): Progress {
  if (!io.stderrIsTTY) return QUIET;
  let last = Number.NEGATIVE_INFINITY;
  let shown = false;
  return {
    update(fraction, detail = '') {
      const now = io.now();
      if (now - last < EVERY_MS) return;
      last = now;
      shown = true;
      const pct = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
      io.stderr(`\r${label} ${pct}%${detail ? ` ${detail}` : ''}\x1b[K`);
    },
    done() {
      if (shown) io.stderr('\r\x1b[K');
    },
  };
}
