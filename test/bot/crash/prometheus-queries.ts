import { expect } from 'vitest';
import type { StoredEvaluation } from '../../../src/store/repos.ts';
import type { LivePrometheus } from '../../support/live-prometheus.ts';
import type { CountingProxy } from '../../support/prometheus.ts';

// What a bot process asked Prometheus, read from the recording proxy between them: the policy's
// own queries (test/fixtures/bot/service-*-policy.yml), each range anchored with `@` at the
// evaluation's instant, in one POST to /api/v1/query. And what it stored is what Prometheus
// answers to those queries at that instant.

/** The policy's range placeholder, `${window}` written literally. */
const WINDOW = `[${'$'}{window}]`;
/** The fixtures' source, as the policy writes it. */
const POLICY_QUERIES = {
  bad: `sum(increase(agent_tasks_total{job="agents",outcome="error"}${WINDOW}))`,
  total: `sum(increase(agent_tasks_total{job="agents"}${WINDOW}))`,
};
const TARGET = 0.99;
const LOOKBACK_MS: Record<string, number> = { '1m': 60_000, '1h': 3_600_000 };

/** The placeholder as a range of `ms` ending at `at`, as src/telemetry/prometheus/promql.ts writes it. */
const ranged = (expr: string, ms: number, at: number) =>
  expr.replace(WINDOW, `[${ms / 1000}s] @ ${(at / 1000).toFixed(3).replace(/\.?0+$/, '')}`);

/** Every metrics request of the bot went to /api/v1/query; the one of evaluation `e` carried the policy's queries. */
export async function expectPolicyQueries(
  prom: CountingProxy,
  telemetry: LivePrometheus,
  e: StoredEvaluation,
  lookbacks: string[],
): Promise<void> {
  expect(prom.seen.length).toBeGreaterThan(0);
  expect(new Set(prom.seen.map((r) => r.split('?')[0]))).toEqual(new Set(['POST /api/v1/query']));
  const queries = prom.bodies.map((b) => new URLSearchParams(b).get('query') ?? '');
  for (const lookback of lookbacks) {
    const ms = LOOKBACK_MS[lookback]!;
    const bad = ranged(POLICY_QUERIES.bad, ms, e.at);
    const total = ranged(POLICY_QUERIES.total, ms, e.at);
    // Both in the same request, tagged by label_replace among the evaluation's other ranges.
    expect(
      queries.some((q) => q.includes(bad) && q.includes(total)),
      `the bot's queries include ${bad} and ${total}`,
    ).toBe(true);
    // The same queries asked of Prometheus now give the burn the bot stored (a scrape that landed
    // just after the bot asked moves it by a sliver).
    const ratio = (await telemetry.value(`(${bad}) / (${total})`, e.at))!;
    const stored = e.slos[0]!.burn_rates[lookback]!;
    expect(Math.abs(stored - ratio / (1 - TARGET)) / stored, `${lookback} burn`).toBeLessThan(0.05);
  }
}
