import type { TelemetryRequest } from '../../policy/gate/sample.ts';
import type { PrometheusSource } from '../../policy/spec/schema.ts';
import type { Window } from '../../policy/time/window.ts';
import { TelemetryError } from '../errors.ts';
import { hasPlaceholder, type SliQuery, sliQuery } from './promql.ts';
import { recordedRules } from './recording-rules.ts';

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
  /** Sub-queries answering the newest sample time (seconds) of a series an SLO reads. */
  probes: string[];
}

/** A vector selector right before a `[${window}]` range: `x{a="b"}[${window}]` → `x{a="b"}`. */
const SELECTOR_BEFORE_RANGE = /([A-Za-z_:][A-Za-z0-9_:]*\s*(?:\{[^{}]*\})?|\{[^{}]*\})\s*\[\$\{window\}/g;

/** The series an SLO's source reads, as selectors to probe for their newest sample. */
function selectorsOf(prom: PrometheusSource, window: Window): string[] {
  if ('total' in prom) {
    const out = new Set<string>();
    for (const expr of [prom.total, 'bad' in prom ? prom.bad : prom.good])
      for (const m of expr.matchAll(SELECTOR_BEFORE_RANGE)) out.add(m[1]!.trim());
    return [...out];
  }
  const rules = recordedRules(prom, window.kind === 'rolling' ? window.ms : null);
  return [rules.selector(rules.windows[0]!)];
}

/**
 * The newest sample of a selector within `span` before `at`: timestamp() gives each sample's own
 * time, and the subquery's steps (a minute apart at most, under the 5m lookback) see every one.
 */
function probeQuery(selector: string, span: number, at: number): string {
  const secs = Math.max(60, Math.round(span / 1000));
  const step = Math.max(15, Math.min(60, Math.round(secs / 60)));
  return `max(max_over_time(timestamp(${selector})[${secs}s:${step}s] @ ${(at / 1000).toFixed(3).replace(/\.?0+$/, '')}))`;
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
  // Series read over task attributes (a control arm) have no PromQL: left out, not an error.
  const slos = request.slos
    .filter((q) => !q.attributes)
    .map(({ slo, ranges }) => {
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
  const probes = new Set<string>();
  if (request.freshnessSpan !== undefined) {
    for (const { slo, attributes } of request.slos) {
      const prom = slo.source?.prometheus;
      if (!prom || attributes) continue;
      for (const sel of selectorsOf(prom, slo.window))
        probes.add(idFor(probeQuery(sel, request.freshnessSpan, request.at)));
    }
  }
  return { slos, subqueries, probes: [...probes] };
}

const JOIN = ' or\n';

export interface Batch {
  /** Sub-query ids it carries. */
  ids: string[];
  query: string;
}

/**
 * Joins sub-queries into PromQL batches of at most `max` each and, when `maxBytes` is given, at
 * most that many bytes of PromQL (VictoriaMetrics refuses queries over `-search.maxQueryLen`,
 * 16 KiB by default; Prometheus has no limit). A sub-query longer than the limit on its own is
 * still sent, alone, for the server to judge.
 */
export function batches(subqueries: Map<string, string>, max: number, maxBytes = Infinity): Batch[] {
  const out: Batch[] = [];
  let ids: string[] = [];
  let parts: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (parts.length > 0) out.push({ ids, query: parts.join(JOIN) });
    ids = [];
    parts = [];
    bytes = 0;
  };
  for (const [id, expr] of subqueries) {
    const tagged = `label_replace(${expr}, "${KEY_LABEL}", "${id}", "", "")`;
    const size = Buffer.byteLength(tagged);
    if (parts.length >= max || (parts.length > 0 && bytes + JOIN.length + size > maxBytes)) flush();
    bytes += (parts.length > 0 ? JOIN.length : 0) + size;
    ids.push(id);
    parts.push(tagged);
  }
  flush();
  return out;
}

/**
 * The query-length limit a server stated when it refused a batch, e.g. VictoriaMetrics' `too long
 * query; got 30972 bytes; mustn't exceed -search.maxQueryLen=16384 bytes`; null for any other error.
 */
export function statedQueryLimit(message: string): number | null {
  const m = /maxQueryLen[`'"]?\s*=\s*(\d+)/.exec(message);
  return m ? Number(m[1]) : null;
}
