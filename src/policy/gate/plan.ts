import type { Policy } from '../spec/schema.ts';
import type { Duration } from '../time/duration-value.ts';
import { windowBounds } from '../time/window.ts';
import { lookbackKey, RANGE_WINDOW, type Range, seriesKey, type TelemetryRequest } from './sample.ts';

/** Every lookback a decision reports a burn rate for: the alerts' windows and the soft-pause pace. */
export function lookbacksOf(policy: Policy): Duration[] {
  const byText = new Map<string, Duration>();
  for (const d of [
    ...policy.alerts.flatMap((a) => [a.short, a.long]),
    policy.states.soft_pause.pace_lookback,
  ])
    byText.set(d.text, d);
  return [...byText.values()].sort((a, b) => a.ms - b.ms);
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
      const bounds = windowBounds(slo.window, at);
      const ranges: Range[] = [{ key: RANGE_WINDOW, from: bounds.start, to: at }];
      for (const d of lookbacks) ranges.push({ key: lookbackKey(d.text), from: at - d.ms, to: at });
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
