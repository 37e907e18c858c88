// Durations as people write them in policies: 90s, 5m, 1h, 1h30m, 1d, 4w. Milliseconds inside.
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/** Parses `1h30m` into milliseconds; returns null when the text is not a positive duration. */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (s === '') return null;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = PART.exec(s); m !== null; m = PART.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = PART.lastIndex;
  }
  if (consumed !== s.length || !(total > 0) || !Number.isFinite(total)) return null;
  return total;
}

/** The shortest and longest a duration at one key may be: outside them the policy means nothing sane. */
export interface DurationBounds {
  min: number;
  max: number;
}

const MINUTE = UNIT_MS.m!;
const HOUR = UNIT_MS.h!;
const DAY = UNIT_MS.d!;

/**
 * Bounds per kind of duration. A 1 ms window or interval makes every decision noise (or a busy
 * loop in the bot); a window of 10^20 days overflows the date arithmetic; a watch of a year never
 * ends. Past these a policy is refused with the key path, instead of crashing later.
 */
export const DURATION_BOUNDS = {
  /** An SLO window (rolling): an hour is already a toy; longer than a year is not an error budget. */
  window: { min: HOUR, max: 366 * DAY },
  /** Lookbacks, alert windows, projections: a minute of data at least, no longer than a window can be. */
  lookback: { min: MINUTE, max: 366 * DAY },
  /** How long an override lasts. */
  expiry: { min: MINUTE, max: 366 * DAY },
  /** How long the bot watches one deployment, and the baseline before it. */
  watch: { min: MINUTE, max: 30 * DAY },
  /** How often the bot looks again. */
  interval: { min: 10 * UNIT_MS.s!, max: DAY },
  /** How often the bot evaluates a repository's default branch: its floor bounds the bot's cost. */
  evaluation: { min: 10 * UNIT_MS.s!, max: HOUR },
  /** How long the primary has to acknowledge a page. */
  ack: { min: 10 * UNIT_MS.s!, max: DAY },
  /** How long an escalation step waits for an acknowledgement before the next. */
  escalation: { min: MINUTE, max: 7 * DAY },
  /** How often a runbook must be drilled: at least yearly. */
  drill: { min: DAY, max: 366 * DAY },
} as const satisfies Record<string, DurationBounds>;

/** Why `text` is not a duration within `bounds`, in words; null when it is one. */
export function durationProblem(text: string, bounds: DurationBounds): string | null {
  const ms = parseDuration(text);
  if (ms === null) return 'expected a duration such as 5m, 1h, 1d or 1h30m';
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  if (ms < bounds.min) return `${shown} is too short: at least ${formatDuration(bounds.min)}`;
  if (ms > bounds.max) return `${shown} is too long: at most ${formatDuration(bounds.max)}`;
  return null;
}

/** The shortest exact spelling of a duration: 86400000 → "1d", 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const units: Array<[string, number]> = [
    ['d', UNIT_MS.d!],
    ['h', UNIT_MS.h!],
    ['m', UNIT_MS.m!],
    ['s', UNIT_MS.s!],
  ];
  let rest = Math.round(ms);
  let out = '';
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${name}`;
      rest -= n * size;
    }
  }
  return out === '' ? `${rest}ms` : rest > 0 ? `${out}${rest}ms` : out;
}

/** A coarse, readable span for people: 3.2 days, 5 hours, 12 minutes. */
export function humanizeDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= 2 * UNIT_MS.d!) return `${(ms / UNIT_MS.d!).toFixed(1)} days`;
  if (abs >= 2 * UNIT_MS.h!) return `${(ms / UNIT_MS.h!).toFixed(1)} hours`;
  if (abs >= 2 * UNIT_MS.m!) return `${Math.round(ms / UNIT_MS.m!)} minutes`;
  return `${Math.round(ms / 1000)} seconds`;
}
