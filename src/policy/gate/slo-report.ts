import type { Policy, Slo } from '../spec/schema.ts';
import { windowBounds } from '../time/window.ts';
import { budgetEvents, burnRate, consumedOf, projectExhaustion } from './budget.ts';
import type { SloReport, State } from './decision-schema.ts';
import { lookbacksOf } from './plan.ts';
import { lookbackKey, RANGE_WINDOW, type SloSamples, seriesKey } from './sample.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export interface SloEvaluation {
  report: SloReport;
  /** Why this SLO is in its state, for the decision's reasons. */
  rule: string | null;
  pace: { burn: number | null; lookback: string; expected: number | null };
  minEvents: number;
}

/** One SLO's figures and state from its samples. Pure. */
export function evaluateSlo(
  policy: Policy,
  slo: Slo,
  samples: SloSamples | undefined,
  at: number,
): SloEvaluation {
  const window = slo.window;
  const bounds = windowBounds(window, at);
  const rolling = window.kind === 'rolling';
  const ranges = samples?.ranges ?? {};
  const win = ranges[RANGE_WINDOW] ?? { events: 0, bad: 0, ratio: null };
  const consumed = consumedOf(win, slo.target);
  const burn_rates: Record<string, number | null> = {};
  for (const d of lookbacksOf(policy)) burn_rates[d.text] = burnRate(ranges[lookbackKey(d.text)], slo.target);

  const soft = policy.states.soft_pause;
  const hard = policy.states.hard_pause;
  const paceBurn = burn_rates[soft.pace_lookback.text] ?? null;
  const exhaustion = projectExhaustion(consumed, paceBurn, bounds, rolling);
  const minEvents = slo.min_events ?? policy.states.min_events;
  const insufficient = win.ratio === null || (win.events !== null && win.events < minEvents);

  let state: State = 'ship';
  let rule: string | null = null;
  const expected = rolling ? null : bounds.elapsedFraction * soft.pace_factor;
  if (!insufficient && consumed !== null) {
    const within = hard.exhaustion_within?.ms ?? null;
    if (consumed >= hard.consumed) {
      state = 'hard-pause';
      rule = 'states.hard_pause.consumed';
    } else if (within !== null && exhaustion !== null && exhaustion - at <= within) {
      state = 'hard-pause';
      rule = 'states.hard_pause.exhaustion_within';
    } else if (consumed >= soft.consumed) {
      const ahead = rolling ? paceBurn !== null && paceBurn > soft.pace_factor : consumed > expected!;
      if (ahead) {
        state = 'soft-pause';
        rule = 'states.soft_pause';
      }
    }
  }

  const series: SloReport['series'] = [];
  let cumulativeBad = 0;
  const fullBudget = win.events !== null ? budgetEvents(win.events, slo.target) : null;
  // The planner spaces the chart's steps evenly across the window; each point is a step's end.
  let steps = 0;
  while (ranges[seriesKey(steps)]) steps++;
  for (let i = 0; i < steps; i++) {
    const s = ranges[seriesKey(i)]!;
    const end = bounds.start + ((i + 1) * (at - bounds.start)) / steps;
    if (s.bad !== null && fullBudget !== null && fullBudget > 0) {
      cumulativeBad += s.bad;
      series.push({ at: iso(end), consumed: cumulativeBad / fullBudget });
    } else {
      series.push({ at: iso(end), consumed: null });
    }
  }

  return {
    report: {
      name: slo.name,
      sli: describeSli(slo),
      target: slo.target,
      window: slo.window.spec,
      state,
      events: win.events,
      bad: win.bad,
      budget: fullBudget,
      consumed,
      remaining: consumed === null ? null : 1 - consumed,
      elapsed: bounds.elapsedFraction,
      burn_rates,
      projected_exhaustion: exhaustion === null ? null : iso(exhaustion),
      insufficient_data: insufficient,
      quantiles: samples?.quantiles ?? null,
      series,
    },
    rule,
    pace: { burn: paceBurn, lookback: soft.pace_lookback.text, expected },
    minEvents,
  };
}

function describeSli(slo: Slo): string {
  switch (slo.sli.kind) {
    case 'success':
      return 'success';
    case 'latency':
      return `latency <= ${slo.sli.threshold_ms}ms`;
    case 'cost':
      return `cost <= $${slo.sli.threshold_usd}`;
  }
}
