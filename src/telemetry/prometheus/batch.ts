import type { TelemetryRequest } from '../../policy/sample.ts';
import { TelemetryError } from '../errors.ts';
import { hasPlaceholder, type SliQuery, sliQuery } from './promql.ts';

// Many small queries, few requests: every (SLO, range, part) sub-query is tagged with a `bg_key`
// label by label_replace and the lot is joined with `or`, so one HTTP request answers all of them.
// Identical sub-queries (two SLOs sharing a `total`) are asked once.

export const KEY_LABEL = 'bg_key';

export interface Planned {
  /** Per SLO, per range: what to read back. */
  slos: {
    name: string;
    ranges: { key: string; query: SliQuery; ids: Record<string, string>; empty: boolean }[];
  }[];
  /** Sub-query id → PromQL. */
  subqueries: Map<string, string>;
}

export function planQueries(request: TelemetryRequest, source: string): Planned {
  const byExpr = new Map<string, string>();
  const subqueries = new Map<string, string>();
  const idFor = (expr: string) => {
    let id = byExpr.get(expr);
    if (!id) {
      id = `q${byExpr.size}`;
      byExpr.set(expr, id);
      subqueries.set(id, expr);
    }
    return id;
  };
  const slos = request.slos.map(({ slo, ranges }) => {
    const prom = slo.source?.prometheus;
    if (!prom) {
      throw new TelemetryError(
        'config',
        source,
        `SLO ${slo.name} has no source.prometheus in the policy: give it bad/total (or good/total) PromQL, or the Sloth/Pyrra rules it has`,
      );
    }
    for (const [part, expr] of Object.entries(prom)) {
      if (typeof expr === 'string' && !hasPlaceholder(expr)) {
        throw new TelemetryError(
          'config',
          source,
          `SLO ${slo.name}: source.prometheus.${part} has no \${window}, so every range (window, lookbacks) would read the same value: write the range as [\${window}]`,
        );
      }
    }
    return {
      name: slo.name,
      ranges: ranges.map((range) => {
        const query = sliQuery(prom, range, slo.window);
        const ids: Record<string, string> = {};
        // An empty range (a deploy watched from the instant it went live, a calendar period that
        // starts now) holds nothing: asking would only get increase()'s extrapolation over 1s.
        if (range.to <= range.from) return { key: range.key, query, ids, empty: true };
        if (query.kind === 'ratio') ids.ratio = idFor(query.ratio);
        else {
          ids.total = idFor(query.total);
          if (query.bad) ids.bad = idFor(query.bad);
          if (query.good) ids.good = idFor(query.good);
        }
        return { key: range.key, query, ids, empty: false };
      }),
    };
  });
  return { slos, subqueries };
}

/** Joins sub-queries into PromQL batches of at most `max` each. */
export function batches(subqueries: Map<string, string>, max: number): string[] {
  const tagged = [...subqueries].map(
    ([id, expr]) => `label_replace(${expr}, "${KEY_LABEL}", "${id}", "", "")`,
  );
  const out: string[] = [];
  for (let i = 0; i < tagged.length; i += max) out.push(tagged.slice(i, i + max).join(' or\n'));
  return out;
}
