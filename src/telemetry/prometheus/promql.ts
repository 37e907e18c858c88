import { parseDuration } from '../../policy/duration.ts';
import type { Range } from '../../policy/sample.ts';
import type { PrometheusSource } from '../../policy/schema.ts';

// PromQL for one SLO over one range. Every range is one instant query evaluated at the range's end
// with the `@` modifier, so ranges that end before the evaluation time (chart steps, the canary
// baseline) ride in the same request as the ones that end at it.

export type SliQuery =
  | { kind: 'counts'; bad: string | null; good: string | null; total: string }
  | { kind: 'ratio'; ratio: string };

/** The policy's range placeholder, written literally in PromQL: `increase(x[${window}])`. */
const PLACEHOLDER = '$' + '{window}';

const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));
const atSeconds = (ms: number) => (ms / 1000).toFixed(3).replace(/\.?0+$/, '');

/** `[${window}]` → `[3600s] @ 1763629200`: the range and where it ends. */
export function withRange(expr: string, range: Range): string {
  const span = `${seconds(range.to - range.from)}s`;
  return expr
    .replaceAll(`[${PLACEHOLDER}]`, `[${span}] @ ${atSeconds(range.to)}`)
    .replaceAll(PLACEHOLDER, span);
}

/** Sloth and Pyrra record these ratio windows; other ranges average the shortest one. */
const RECORDED = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];

const quote = (s: string) => JSON.stringify(s);

/** The recording rule's selector for one ratio window. */
function ratioSelector(
  source: Extract<PrometheusSource, { sloth: unknown } | { pyrra: unknown }>,
  spec: string,
): string {
  if ('sloth' in source) {
    return `slo:sli_error:ratio_rate${spec}{sloth_service=${quote(source.sloth.service)},sloth_slo=${quote(source.sloth.slo)}}`;
  }
  return `{__name__=~".+:burnrate${spec}",slo=${quote(source.pyrra.slo)}}`;
}

/** The SLI over a range: bad/good/total expressions, or (Sloth, Pyrra) a bad ratio. */
export function sliQuery(source: PrometheusSource, range: Range, sloWindow: string): SliQuery {
  if ('total' in source) {
    return {
      kind: 'counts',
      bad: 'bad' in source ? withRange(source.bad, range) : null,
      good: 'good' in source ? withRange(source.good, range) : null,
      total: withRange(source.total, range),
    };
  }
  const span = range.to - range.from;
  const spec = [...RECORDED, sloWindow].find((s) => parseDuration(s) === span);
  const at = atSeconds(range.to);
  if (spec) return { kind: 'ratio', ratio: `max(${ratioSelector(source, spec)} @ ${at})` };
  // No rule for this span: the time average of the 5m ratio (unweighted by traffic; see README).
  return {
    kind: 'ratio',
    ratio: `max(avg_over_time(${ratioSelector(source, '5m')}[${seconds(span)}s] @ ${at}))`,
  };
}
