import type { Range } from '../../policy/gate/sample.ts';
import type { PrometheusSource } from '../../policy/spec/schema.ts';
import type { Window } from '../../policy/time/window.ts';
import { recordedRules } from './recording-rules.ts';

// PromQL for one SLO over one range. Every range is one instant query evaluated at the range's end
// with the `@` modifier, so ranges that end before the evaluation time (chart steps, the canary
// baseline) ride in the same request as the ones that end at it.

export type SliQuery =
  | { kind: 'counts'; bad: string | null; good: string | null; total: string }
  | { kind: 'ratio'; ratio: string; hint: string };

/** The policy's range placeholder, written literally in PromQL: `increase(x[${window}])`. */
const PLACEHOLDER = '$' + '{window}';

const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));
const atSeconds = (ms: number) => (ms / 1000).toFixed(3).replace(/\.?0+$/, '');

/** A range selector or subquery over the placeholder: `[${window}]`, `[${window}:1m]`. */
const RANGE = /\[\$\{window\}(:[^\]]*)?\]/g;

/** Whether an expression says where its range goes; without one every range reads the same value. */
export const hasPlaceholder = (expr: string): boolean => expr.includes(PLACEHOLDER);

/** `[${window}]` → `[3600s] @ 1763629200`: the range and where it ends. */
function withRange(expr: string, range: Range): string {
  const span = `${seconds(range.to - range.from)}s`;
  return expr
    .replace(RANGE, (_m, step: string | undefined) => `[${span}${step ?? ''}] @ ${atSeconds(range.to)}`)
    .replaceAll(PLACEHOLDER, span);
}

/** The SLI over a range: bad/good/total expressions, or (Sloth, Pyrra) a bad ratio. */
export function sliQuery(source: PrometheusSource, range: Range, window: Window): SliQuery {
  if ('total' in source) {
    return {
      kind: 'counts',
      bad: 'bad' in source ? withRange(source.bad, range) : null,
      good: 'good' in source ? withRange(source.good, range) : null,
      total: withRange(source.total, range),
    };
  }
  const rules = recordedRules(source, window.kind === 'rolling' ? window.ms : null);
  const span = range.to - range.from;
  const at = atSeconds(range.to);
  if (rules.windows.includes(span)) {
    return { kind: 'ratio', ratio: `max(${rules.selector(span)} @ ${at})`, hint: rules.hint };
  }
  // No rule for this span: the time average of the shortest window's ratio, as Sloth computes its
  // own period ratio (unweighted by traffic; see README).
  return {
    kind: 'ratio',
    ratio: `max(avg_over_time(${rules.selector(rules.windows[0]!)}[${seconds(span)}s] @ ${at}))`,
    hint: rules.hint,
  };
}
