// Named policies the tests share. One SLO on Prometheus counters is what the telemetry tests need:
// a success SLI at 95% over 7d, read from `bad_total` and `all_total`.

/** The instant the Prometheus tests evaluate at. */
export const PROM_AT = Date.parse('2026-11-20T09:00:00Z');

const COUNTERS = `
      prometheus:
        bad: sum(increase(bad_total[\${window}]))
        total: sum(increase(all_total[\${window}]))`;

/**
 * The one-SLO Prometheus policy; `source` replaces the `prometheus:` block (inline YAML flow), and
 * `states` adds a `states:` mapping.
 */
export function prometheusPolicy(o: { source?: string; states?: string } = {}): string {
  return `version: 1
slos:
  - name: ok
    sli: { kind: success }
    target: 0.95
    window: 7d
    scope: all
    source:${o.source === undefined ? COUNTERS : `\n      prometheus: ${o.source}`}
${o.states ? `states: ${o.states}\n` : ''}`;
}
