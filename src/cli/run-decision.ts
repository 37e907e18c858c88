import type { Change } from '../policy/change.ts';
import { decide } from '../policy/decide.ts';
import type { Decision } from '../policy/decision-schema.ts';
import { formatProblem, type LoadedPolicy } from '../policy/load.ts';
import { planRequest } from '../policy/plan.ts';
import type { TelemetryResult, TelemetrySource } from '../policy/sample.ts';
import { TelemetryError } from '../telemetry/errors.ts';

/** Points on the burn chart: one per 1.25 days of a 30-day window. */
export const CHART_POINTS = 24;

export interface DecisionRun {
  decision: Decision;
  /** Telemetry could not be read: the decision follows `on_telemetry_error`, the exit status is 2. */
  telemetryError: TelemetryError | null;
}

/** policy + telemetry + change → decision. Telemetry failures become part of the decision, never a pass. */
export async function runDecision(
  loaded: LoadedPolicy,
  source: TelemetrySource,
  change: Change,
  at: number,
): Promise<DecisionRun> {
  const request = planRequest(loaded.policy, at, { series: CHART_POINTS, quantiles: true });
  let result: TelemetryResult | null = null;
  let telemetryError: TelemetryError | null = null;
  try {
    result = await source.fetch(request);
  } catch (e) {
    if (!(e instanceof TelemetryError)) throw e;
    telemetryError = e;
  }
  const decision = decide({
    policy: loaded.policy,
    at,
    change,
    telemetry: { source: source.name, result, error: telemetryError?.message ?? null },
    warnings: loaded.warnings.map(formatProblem),
  });
  return { decision, telemetryError };
}
