import type { Change } from '../../src/policy/gate/change.ts';
import { lookbacksOf } from '../../src/policy/gate/plan.ts';
import {
  countSample,
  lookbackKey,
  RANGE_WINDOW,
  type Sample,
  type TelemetryResult,
} from '../../src/policy/gate/sample.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import type { Policy } from '../../src/policy/spec/schema.ts';

export const AT = Date.parse('2026-11-20T12:00:00Z');

export const BASE_POLICY = `
version: 1
slos:
  - name: refunds-success
    sli: { kind: success }
    target: 0.95
    window: 30d
    scope: { service: refunds }
    min_events: 100
risk:
  default: low
  rules:
    - paths: ["prompts/**", "models/**"]
      class: high
overrides:
  approvers:
    users: [sre-lead]
    teams: [acme/sre]
`;

export function policy(text = BASE_POLICY): Policy {
  return loadPolicy(text, 'test.yml').policy;
}

/** Samples for one SLO: its window counts and a burn rate per lookback at a steady traffic rate. */
export function samplesFor(
  p: Policy,
  sloName: string,
  window: { events: number; bad: number },
  burns: Record<string, number> = {},
  eventsPerLookback = 1000,
): TelemetryResult['slos'][string] {
  const slo = p.slos.find((s) => s.name === sloName)!;
  const ranges: Record<string, Sample> = { [RANGE_WINDOW]: countSample(window.events, window.bad) };
  for (const spec of lookbacksOf(p).map((d) => d.text)) {
    const burn = burns[spec] ?? 0;
    ranges[lookbackKey(spec)] = countSample(eventsPerLookback, burn * (1 - slo.target) * eventsPerLookback);
  }
  return { ranges };
}

export function resultFor(slos: Record<string, TelemetryResult['slos'][string]>): TelemetryResult {
  return { slos };
}

export function change(files: string[], extra: Partial<Change> = {}): Change {
  return { files, labels: [], author: 'dev', last_push_at: AT - 3_600_000, ...extra };
}
