import type { Freshness, TelemetryResult } from '../policy/gate/sample.ts';
import type { Policy } from '../policy/spec/schema.ts';
import { TelemetryError } from './errors.ts';

// Stale data gates as if it were current: a month-old file or a Prometheus whose scrape stopped
// reads as a window where nothing happens lately, burn "—", and a verdict on the past. Each source
// says how new its newest data is; older than the policy allows is a telemetry error, which the
// policy's on_telemetry_error turns into a decision, with the age and the likely cause.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Defaults per source. Prometheus scrapes every 15s–1m: no sample in 10 minutes is several missed
 * scrapes, a stopped target or rule, not quiet traffic (counters keep their last value while idle,
 * so an idle service still has fresh samples). A JSONL file holds tasks, not samples: a quiet scope
 * (0.6 tasks a minute) with an overnight trough, in a file exported hourly or in batches, can go a
 * few hours without a new line while perfectly current; 6 hours is four hourly exports plus slack,
 * and still catches a day-old export the same morning.
 */
const DEFAULT_MAX_DATA_AGE: Record<Freshness['source'], { ms: number; text: string }> = {
  prometheus: { ms: 10 * MINUTE, text: '10m' },
  jsonl: { ms: 6 * HOUR, text: '6h' },
};

const WHAT: Record<Freshness['source'], { thing: string; cause: string }> = {
  jsonl: {
    thing: 'task',
    cause: 'is the file current (its export or copy still running), or is --at right?',
  },
  prometheus: {
    thing: 'sample',
    cause:
      'has the scrape stopped (the target down, a relabel dropping it, recording rules not evaluated), or is --at right?',
  },
};

/** A duration for a person: 13d, 7h, 42m, 30s. */
export function ageText(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** The limit the policy sets for a source, or that source's default. */
export function maxDataAge(policy: Policy, source: Freshness['source']): { ms: number; text: string } {
  const set = policy.states.max_data_age;
  const d = set === undefined ? undefined : 'ms' in set ? set : set[source];
  return d ? { ms: d.ms, text: d.text } : DEFAULT_MAX_DATA_AGE[source];
}

/** Where the data is, as other telemetry messages say it: the file, or `Prometheus at URL`. */
function where(name: string): string {
  if (name.startsWith('jsonl ')) return name.slice('jsonl '.length);
  if (name.startsWith('prometheus ')) return `Prometheus at ${name.slice('prometheus '.length)}`;
  return name;
}

/** The telemetry error a result's age makes, or null when it is fresh enough (or cannot tell). */
export function staleData(
  result: TelemetryResult,
  at: number,
  policy: Policy,
  name: string,
): TelemetryError | null {
  const f = result.freshness;
  if (!f) return null;
  const limit = maxDataAge(policy, f.source);
  const { thing, cause } = WHAT[f.source];
  if (f.newest === null) {
    // A probe that finds nothing saw no sample in the whole span it looked over (≥ the limit).
    if (f.looked === undefined) return null;
    return new TelemetryError(
      'stale',
      name,
      `${where(name)}: no ${thing} in the ${ageText(f.looked)} before ${new Date(at).toISOString()}, more than the ${limit.text} states.max_data_age allows: ${cause}`,
    );
  }
  const age = at - f.newest;
  if (age <= limit.ms) return null;
  return new TelemetryError(
    'stale',
    name,
    `${where(name)}: newest ${thing} ${ageText(age)} old at ${new Date(at).toISOString()} (${new Date(f.newest).toISOString()}), more than the ${limit.text} states.max_data_age allows: ${cause}`,
  );
}
