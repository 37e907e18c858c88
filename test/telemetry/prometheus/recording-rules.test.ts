import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../../src/policy/gate/decide.ts';
import { planRequest } from '../../../src/policy/gate/plan.ts';
import { loadPolicy } from '../../../src/policy/spec/load.ts';
import { parseDuration } from '../../../src/policy/time/duration.ts';
import { createPrometheusSource } from '../../../src/telemetry/prometheus/index.ts';
import { promDuration, recordedRules } from '../../../src/telemetry/prometheus/recording-rules.ts';
import { fetchFailure, type RunningPrometheus, startPrometheus } from '../../support/prometheus.ts';

// Teams that run Sloth or Pyrra already have the error ratio per window as recording rules. Their
// series, named as those tools name them, are loaded into a real Prometheus; budget-gate must read
// the windows the tools record and average the 5m ratio over the spans they do not.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const AT = Date.parse('2026-11-20T00:00:00Z');
const STEP = 5 * MINUTE;
// A week's SLO and a day before it: every 2h of data is a block promtool writes and syncs.
const START = AT - 8 * DAY;

/** The shortest window's error ratio: 0.5%, then 3% for the last two days. */
const ratio5m = (t: number) => (t > AT - 2 * DAY ? 0.03 : 0.005);

/** What avg_over_time over (from, to] sees on Prometheus 2, whose ranges include their start. */
function average(from: number, to: number): number {
  let sum = 0;
  let n = 0;
  for (let t = START; t <= AT; t += STEP) {
    if (t >= from && t <= to) {
      sum += ratio5m(t);
      n++;
    }
  }
  return sum / n;
}

/** Gauges every 5 minutes: the shortest window's ratio as above, every other window a constant. */
function gauges(metric: (w: string) => string, windows: Record<string, number | null>): string[] {
  const lines: string[] = [];
  for (const [w, value] of Object.entries(windows)) {
    const name = metric(w);
    lines.push(`# TYPE ${name.split('{')[0]} gauge`);
    for (let t = START; t <= AT; t += STEP) lines.push(`${name} ${value ?? ratio5m(t)} ${t / 1000}`);
  }
  return lines;
}

// Sloth: the workbook's windows and the period (7d, which Prometheus spells 1w).
const SLOTH = {
  '5m': null,
  '30m': 0.035,
  '1h': 0.035,
  '2h': 0.035,
  '6h': 0.035,
  '1d': 0.035,
  '3d': 0.0217,
  '1w': 0.0067,
};
// Pyrra at 7d: its 28d windows scaled by a quarter, to the minute.
const PYRRA = {
  '1m': null,
  '8m': 0.031,
  '15m': 0.032,
  '30m': 0.033,
  '1h30m': 0.034,
  '6h': 0.036,
  '1d': 0.037,
};

const POLICY = `version: 1
slos:
  - name: sloth-success
    sli: { kind: success }
    target: 0.99
    window: 7d
    scope: all
    source: { prometheus: { sloth: { service: agents, slo: tasks-success } } }
  - name: pyrra-success
    sli: { kind: success }
    target: 0.99
    window: 7d
    scope: all
    source: { prometheus: { pyrra: { slo: tasks-success } } }
`;

let prom: RunningPrometheus;

beforeAll(async () => {
  const sloth = gauges(
    (w) =>
      `slo:sli_error:ratio_rate${w}{sloth_id="agents-tasks-success",sloth_service="agents",sloth_slo="tasks-success",sloth_window="${w}"}`,
    SLOTH,
  );
  const pyrra = gauges((w) => `agent_tasks:burnrate${w}{job="agents",slo="tasks-success"}`, PYRRA);
  prom = await startPrometheus([...sloth, ...pyrra, '# EOF', ''].join('\n'));
  expect(prom.version, 'the averages below assume Prometheus 2 ranges').toMatch(/^2\./);
});

afterAll(async () => {
  await prom?.stop();
});

describe('rule names', () => {
  it('spells windows as Prometheus does, which is how Sloth and Pyrra name their rules', () => {
    expect(promDuration(5 * MINUTE)).toBe('5m');
    expect(promDuration(28 * DAY)).toBe('4w');
    expect(promDuration(7 * DAY)).toBe('1w');
    expect(promDuration(30 * DAY)).toBe('30d');
    expect(promDuration(64 * MINUTE)).toBe('1h4m');
    expect(promDuration(90 * 1000)).toBe('1m30s');
  });

  it("scales Pyrra's windows with the SLO window, rounded to the minute", () => {
    const at28 = recordedRules({ pyrra: { slo: 'x' } }, 28 * DAY).windows.map(promDuration);
    expect(at28).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '4d']);
    const at30 = recordedRules({ pyrra: { slo: 'x' } }, 30 * DAY).windows.map(promDuration);
    expect(at30).toEqual(['5m', '32m', '1h4m', '2h9m', '6h26m', '1d1h43m', '4d6h51m']);
    const at7 = recordedRules({ pyrra: { slo: 'x' } }, 7 * DAY).windows.map(promDuration);
    expect(at7).toEqual(Object.keys(PYRRA));
    const sloth = recordedRules({ sloth: { service: 's', slo: 'o' } }, 28 * DAY);
    expect(sloth.selector(28 * DAY)).toBe('slo:sli_error:ratio_rate4w{sloth_service="s",sloth_slo="o"}');
  });
});

describe('Sloth and Pyrra rules in a real Prometheus', () => {
  it('reads recorded windows as they are and averages the 5m ratio over the rest, in one request', async () => {
    const { policy } = loadPolicy(POLICY, 'p.yml');
    const request = planRequest(policy, AT, { series: 24 });
    const res = await createPrometheusSource({ url: prom.url }).fetch(request);
    expect(res.stats?.requests).toBe(1);

    const sloth = res.slos['sloth-success']!.ranges;
    expect(sloth.window!.ratio).toBeCloseTo(SLOTH['1w'], 12);
    expect(sloth.window!.events).toBeNull();
    for (const w of ['30m', '1h', '2h', '6h', '1d', '3d'] as const)
      expect(sloth[`lookback:${w}`]!.ratio, w).toBeCloseTo(SLOTH[w], 12);
    expect(sloth['lookback:5m']!.ratio).toBeCloseTo(0.03, 12);
    // Chart steps are 7h: no rule records that, so the 5m ratio is averaged over each.
    expect(sloth['series:0']!.ratio).toBeCloseTo(0.005, 12);
    expect(sloth['series:23']!.ratio).toBeCloseTo(0.03, 12);
    const s17 = request.slos[0]!.ranges.find((r) => r.key === 'series:17')!;
    expect(sloth['series:17']!.ratio).toBeCloseTo(average(s17.from, s17.to), 12);
    expect(average(s17.from, s17.to)).not.toBeCloseTo(0.03, 3);

    const pyrra = res.slos['pyrra-success']!.ranges;
    // Pyrra records no 7d ratio, nor 1h, 2h or 3d: those average its shortest (1m) burn rate.
    expect(pyrra.window!.ratio).toBeCloseTo(average(AT - 7 * DAY, AT), 12);
    for (const w of ['5m', '1h', '2h', '3d'])
      expect(pyrra[`lookback:${w}`]!.ratio, w).toBeCloseTo(average(AT - parseDuration(w)!, AT), 12);
    for (const w of ['30m', '6h', '1d'] as const)
      expect(pyrra[`lookback:${w}`]!.ratio, w).toBeCloseTo(PYRRA[w], 12);
  });

  it('decides from ratios: consumed and burn are the ratio over the budget', async () => {
    const { policy } = loadPolicy(POLICY, 'p.yml');
    const src = createPrometheusSource({ url: prom.url });
    const d = decide({
      policy,
      at: AT,
      change: { files: [], labels: [], author: null, last_push_at: null },
      telemetry: { source: src.name, result: await src.fetch(planRequest(policy, AT)), error: null },
    });
    const sloth = d.slos.find((s) => s.name === 'sloth-success')!;
    expect(sloth.consumed).toBeCloseTo(0.67, 9);
    expect(sloth.burn_rates['1d']).toBeCloseTo(3.5, 9);
    expect(sloth.events).toBeNull();
    // Pyrra's week averages to 1.2% failing against a 1% budget: exhausted.
    const pyrra = d.slos.find((s) => s.name === 'pyrra-success')!;
    expect(pyrra.consumed).toBeCloseTo(average(AT - 7 * DAY, AT) / 0.01, 9);
    expect(pyrra.consumed).toBeGreaterThan(1);
    expect(d.state).toBe('hard-pause');
    expect(d.alerts.map((a) => `${a.slo} ${a.name}`)).toContain('sloth-success slow-burn');
  });

  it('a policy window Sloth does not record is no-data that says what to check', async () => {
    const { policy } = loadPolicy(POLICY.replace('window: 7d', 'window: 28d'), 'p.yml');
    const err = await fetchFailure(prom.url, policy, AT);
    expect(err).toMatchObject({
      kind: 'no-data',
      message: expect.stringContaining(
        'no series for sloth-success window: max(slo:sli_error:ratio_rate4w{sloth_service="agents",sloth_slo="tasks-success"} @ 1795132800)',
      ),
    });
    expect((err as Error).message).toContain("is the policy's window the SLO's Sloth time window?");
  });
});
