import { decide } from '../../src/policy/gate/decide.ts';
import type { Decision, SloReport } from '../../src/policy/gate/decision-schema.ts';
import { planRequest } from '../../src/policy/gate/plan.ts';
import { countSample, type Sample, type TelemetryResult } from '../../src/policy/gate/sample.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';

// Every burn chart the report can produce, as real decisions: a one-SLO policy per window, and
// telemetry counted from a bad-share curve over the window (f = 0 at its start, 1 now), so each
// case has a known shape: rising, flat, past the soft- or the hard-pause line, with gaps.

const HOUR = 3_600_000;
/** Tasks per hour: enough that every window clears min_events. */
const RATE = 400;

export interface ChartCase {
  name: string;
  window: string;
  at: string;
  /** Share of tasks that fail at fraction f of the elapsed window. */
  curve: (f: number) => number;
  /** Chart steps asked of the telemetry (the Action asks 24). */
  steps?: number;
  /** Steps whose telemetry has no data (a Prometheus gap). */
  gaps?: number[];
  /** The changed files (globs and paths for the Markdown checks). */
  files?: string[];
  sloName?: string;
}

const POLICY = (window: string) => `version: 1
slos:
  - name: tasks-success
    sli: { kind: success }
    target: 95%
    window: ${window}
    scope: all
risk:
  default: low
  rules:
    - paths: ["prompts/**", "models/**", "config/model*.yml"]
      class: high
    - paths: ["docs/_drafts/**", "**/*.md"]
      class: low
auto_revert:
  consumed: 0.01
`;

const ship = (f: number) => 0.004 + 0.02 * f;
export const CASES: ChartCase[] = [
  { name: 'rolling-7d', window: '7d', at: '2026-11-20T09:00:00Z', curve: ship },
  { name: 'rolling-28d', window: '28d', at: '2026-11-20T09:00:00Z', curve: ship },
  { name: 'rolling-30d', window: '30d', at: '2026-11-20T09:00:00Z', curve: ship },
  { name: 'week-first-hour', window: 'week', at: '2026-11-16T00:40:00Z', curve: ship },
  { name: 'week-late', window: 'week', at: '2026-11-22T20:00:00Z', curve: ship },
  { name: 'month-first-hour', window: 'month', at: '2026-12-01T00:30:00Z', curve: ship },
  { name: 'month-first-day', window: 'month', at: '2026-12-01T13:00:00Z', curve: ship },
  { name: 'month-late', window: 'month', at: '2026-11-28T18:00:00Z', curve: ship },
  { name: 'one-point', window: '7d', at: '2026-11-20T09:00:00Z', curve: ship, steps: 1 },
  {
    name: 'gaps',
    window: '28d',
    at: '2026-11-20T09:00:00Z',
    curve: (f) => 0.01 + 0.03 * f,
    gaps: [6, 7, 8, 15],
  },
  {
    name: 'soft-pause',
    window: '7d',
    at: '2026-11-20T09:00:00Z',
    curve: (f) => 0.01 + 0.06 * f * f,
    files: ['prompts/refund.md', 'docs/_drafts/notes.md'],
  },
  {
    name: 'hard-pause',
    window: '30d',
    at: '2026-11-20T09:00:00Z',
    curve: (f) => 0.03 + 0.1 * f * f,
    files: ['models/router*.yml', 'src/app.ts'],
  },
  {
    name: 'long-title',
    window: '30d',
    at: '2026-11-20T09:00:00Z',
    curve: ship,
    sloName: 'paid "enterprise" agent-tasks-success in eu-west-1 and us-east-2',
  },
];

/** Counts of one range under the case's curve: the bad share integrated over the range. */
function sample(c: ChartCase, start: number, at: number, from: number, to: number): Sample {
  const events = (RATE * (to - from)) / HOUR;
  const slices = 64;
  let share = 0;
  for (let i = 0; i < slices; i++) {
    const t = from + ((i + 0.5) * (to - from)) / slices;
    share += c.curve(Math.min(1, Math.max(0, (t - start) / (at - start)))) / slices;
  }
  return countSample(events, events * share);
}

export function caseDecision(c: ChartCase): Decision {
  const { policy } = loadPolicy(POLICY(c.window), 'error-budget.yml');
  const at = Date.parse(c.at);
  const request = planRequest(policy, at, { series: c.steps ?? 24, quantiles: false });
  const slos: TelemetryResult['slos'] = {};
  for (const q of request.slos) {
    const start = q.ranges.find((r) => r.key === 'window')!.from;
    const ranges: Record<string, Sample> = {};
    for (const r of q.ranges) ranges[r.key] = sample(c, start, at, r.from, r.to);
    for (const g of c.gaps ?? []) ranges[`series:${g}`] = { events: null, bad: null, ratio: null };
    slos[q.slo.name] = { ranges };
  }
  const decision = decide({
    policy,
    at,
    change: { files: c.files ?? ['src/app.ts'], labels: [], author: 'dev', last_push_at: null },
    telemetry: {
      source: 'jsonl /home/runner/work/agents/agents/telemetry/tasks.jsonl',
      result: { slos },
      error: null,
    },
  });
  if (!c.sloName) return decision;
  // The schema keeps quotes out of SLO names; the chart must not depend on it.
  const rename = (s: SloReport) => ({ ...s, name: c.sloName! });
  return { ...decision, slos: decision.slos.map(rename) };
}
