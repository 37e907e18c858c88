import type { PrometheusSource } from '../../policy/spec/schema.ts';

// Where Sloth and Pyrra keep an SLO's error ratio, so a team that already runs one of them points
// budget-gate at its rules. Both name a rule after its window in Prometheus's own duration format
// (Go's model.Duration: 28d is "4w", 64m is "1h4m"), so the names are computed the same way here.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const YEAR = 365 * DAY;

/** model.Duration.String(): years and weeks only when exact, then d, h, m, s, ms. */
export function promDuration(ms: number): string {
  let rest = Math.round(ms);
  if (rest <= 0) return '0s';
  let out = '';
  const take = (unit: string, size: number, exact: boolean) => {
    if (exact && rest % size !== 0) return;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  };
  take('y', YEAR, true);
  take('w', WEEK, true);
  take('d', DAY, false);
  take('h', HOUR, false);
  take('m', MINUTE, false);
  take('s', 1000, false);
  take('ms', 1, false);
  return out;
}

/**
 * Sloth records the SRE workbook's alert windows for every SLO, and the SLO period itself
 * (7d, 28d or 30d) as the time average of the 5m ratio.
 */
function slothWindows(periodMs: number | null): number[] {
  const fixed = [5 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 6 * HOUR, DAY, 3 * DAY];
  return periodMs === null ? fixed : [...fixed, periodMs];
}

/**
 * Pyrra scales its burn-rate windows from a 28-day SLO (5m, 30m, 1h, 2h, 6h, 1d, 4d there),
 * rounded to the minute; it has no calendar windows, so those fall back to the 28-day set.
 */
function pyrraWindows(periodMs: number | null): number[] {
  const period = periodMs ?? 28 * DAY;
  // Go's Duration.Round rounds halves away from zero, as Math.round does for positive numbers.
  return [8064, 1344, 672, 336, 112, 28, 7].map((div) => Math.round(period / div / MINUTE) * MINUTE);
}

export type RuleSource = Extract<PrometheusSource, { sloth: unknown } | { pyrra: unknown }>;

export interface RecordedRules {
  /** Spans (ms) a rule exists for, shortest first. */
  windows: number[];
  /** Instant-vector selector for the error ratio over one recorded span. */
  selector(spanMs: number): string;
  /** Said when a rule has no series: what to check. */
  hint: string;
}

const quote = (s: string) => JSON.stringify(s);

export function recordedRules(source: RuleSource, periodMs: number | null): RecordedRules {
  if ('sloth' in source) {
    const labels = `sloth_service=${quote(source.sloth.service)},sloth_slo=${quote(source.sloth.slo)}`;
    return {
      windows: slothWindows(periodMs),
      selector: (span) => `slo:sli_error:ratio_rate${promDuration(span)}{${labels}}`,
      hint: "are Sloth's rules loaded, and is the policy's window the SLO's Sloth time window?",
    };
  }
  return {
    windows: pyrraWindows(periodMs),
    // Pyrra names the rule after the SLI's metric (`http_requests:burnrate5m`); the slo label is
    // what identifies the SLO, so the metric name is matched by its suffix.
    selector: (span) => `{__name__=~".+:burnrate${promDuration(span)}",slo=${quote(source.pyrra.slo)}}`,
    hint: "are Pyrra's rules loaded, and is the policy's window the SLO's Pyrra window?",
  };
}
