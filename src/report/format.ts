import type { Decision, SloReport, State } from '../policy/gate/decision-schema.ts';
import { pct as explainPct, times } from '../policy/gate/explain.ts';

export const STATE_LABEL: Record<State, string> = {
  ship: 'SHIP',
  'soft-pause': 'SOFT-PAUSE',
  'hard-pause': 'HARD-PAUSE',
};

// The reasons' number formats (src/policy/gate/explain.ts), with a dash where there is no number.
export const pct = (x: number | null): string => (x === null ? '—' : explainPct(x));
export const burn = (x: number | null | undefined): string =>
  x === null || x === undefined ? '—' : times(x);
export const count = (x: number | null): string => (x === null ? '—' : Math.round(x).toLocaleString('en-US'));
export const target = (t: number): string => `${Number((t * 100).toFixed(3))}%`;

/** `2026-11-25 21:20 UTC`: minutes are enough for a person, and UTC avoids the 3am timezone puzzle. */
export const when = (iso: string | null): string =>
  iso === null ? '—' : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** The burn rate the soft-pause pace reads, for tables: the longest lookback of a day or less. */
export function paceBurn(slo: SloReport): { lookback: string; value: number | null } | null {
  const entries = Object.entries(slo.burn_rates);
  const preferred = entries.find(([k]) => k === '1d') ?? entries.at(-1);
  return preferred ? { lookback: preferred[0], value: preferred[1] } : null;
}

export function verdict(d: Decision): string {
  if (d.revert && d.allowed) return 'allowed: a revert';
  if (d.override && d.allowed) return `allowed by override:${d.override.reason}`;
  return d.allowed ? 'allowed' : 'blocked';
}

/** The SLI's measured p95, in the unit a person reads: seconds for latency, dollars for cost. */
export function p95Of(slo: SloReport): string {
  if (!slo.quantiles) return '—';
  const v = slo.quantiles.p95;
  if (slo.sli.startsWith('latency')) return `${(v / 1000).toFixed(1)} s`;
  if (slo.sli.startsWith('cost')) return `$${v.toFixed(3)}`;
  return '—';
}

/** SLOs worth a chart: those holding the state, or the most-spent one when nothing is paused. */
export function chartedSlos(d: Decision): SloReport[] {
  const paused = d.slos.filter((s) => s.state !== 'ship' && s.series.length > 0);
  if (paused.length > 0) return paused;
  const top = [...d.slos]
    .filter((s) => s.series.length > 0)
    .sort((a, b) => (b.consumed ?? 0) - (a.consumed ?? 0));
  return top.slice(0, 1);
}

/** "at 2.1x over 1d the budget runs out 2026-11-25 21:20 UTC" — or why it does not. */
export function projectionLine(slo: SloReport, at: string): string {
  const pace = paceBurn(slo);
  if (slo.consumed !== null && slo.consumed >= 1)
    return `the budget is spent (${pct(slo.consumed)} consumed)`;
  if (!slo.projected_exhaustion) {
    return pace?.value != null
      ? `at ${burn(pace.value)} over ${pace.lookback} the budget lasts the window`
      : 'no burn to project';
  }
  const days = (Date.parse(slo.projected_exhaustion) - Date.parse(at)) / 86_400_000;
  const inText = days < 1 ? `in ${Math.max(1, Math.round(days * 24))} h` : `in ${days.toFixed(1)} days`;
  return `at ${burn(pace?.value)} over ${pace?.lookback ?? '?'} the budget runs out ${when(slo.projected_exhaustion)} (${inText})`;
}

/**
 * What unblocks a change, most effective first: a revert (which always ships), splitting off what
 * may ship now, an override; waiting last, since it is what happens anyway. The decision keeps its
 * own order; this is how a blocked author wants to read it.
 */
export function actionsByEffect(d: Decision): string[] {
  const rank = (a: string) =>
    /^only reverts ship|^revert/.test(a)
      ? 0
      : /^split the change/.test(a)
        ? 1
        : /^ask an approver/.test(a)
          ? 2
          : /^wait/.test(a)
            ? 9
            : 5;
  return d.actions
    .map((a, i) => ({ a, i, r: rank(a) }))
    .sort((x, y) => x.r - y.r || x.i - y.i)
    .map((x) => x.a);
}
