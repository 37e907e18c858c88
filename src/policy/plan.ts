import { parseDuration } from './duration.ts';
import { lookbackKey, RANGE_WINDOW, type Range, seriesKey, type TelemetryRequest } from './sample.ts';
import type { Policy, Slo } from './schema.ts';
import { parseWindow, windowBounds } from './window.ts';

/** Every lookback a decision reports a burn rate for: the alerts' windows and the soft-pause pace. */
export function lookbacksOf(policy: Policy): string[] {
  const specs = new Set<string>();
  for (const a of policy.alerts) {
    specs.add(a.short);
    specs.add(a.long);
  }
  specs.add(policy.states.soft_pause.pace_lookback);
  return [...specs].sort((a, b) => parseDuration(a)! - parseDuration(b)!);
}

export function sloWindow(slo: Slo) {
  return parseWindow(slo.window)!;
}

/** The ranges a decision at `at` needs from a telemetry source. Pure: time is an argument. */
export function planRequest(
  policy: Policy,
  at: number,
  opts: { series?: number; quantiles?: boolean } = {},
): TelemetryRequest {
  const lookbacks = lookbacksOf(policy);
  return {
    at,
    slos: policy.slos.map((slo) => {
      const bounds = windowBounds(sloWindow(slo), at);
      const ranges: Range[] = [{ key: RANGE_WINDOW, from: bounds.start, to: at }];
      for (const spec of lookbacks)
        ranges.push({ key: lookbackKey(spec), from: at - parseDuration(spec)!, to: at });
      const steps = opts.series ?? 0;
      if (steps > 0 && at > bounds.start) {
        const step = (at - bounds.start) / steps;
        for (let i = 0; i < steps; i++) {
          const from = Math.round(bounds.start + i * step);
          const to = i === steps - 1 ? at : Math.round(bounds.start + (i + 1) * step);
          ranges.push({ key: seriesKey(i), from, to });
        }
      }
      return { slo, ranges, quantiles: opts.quantiles ?? false };
    }),
  };
}
