import type { ImportedSlo, ImportOptions, ImportResult, Skipped } from './model.ts';
import { isRecord, itemsOf, policyName, readDocuments, str } from './model.ts';
import { counterIncrease } from './promql.ts';

// Pyrra's `ServiceLevelObjective` (pyrra.dev/v1alpha1) to budget-gate SLOs. Pyrra names counters
// with no range and takes their rate itself; budget-gate takes their increase over each range,
// which is the same ratio and real counts. Its alerts are the workbook's multi-window burns, which
// is budget-gate's default alert table.

const WINDOW = /^(\d+)([mhdw])$/;

/** Pyrra's window (`2w`, `28d`, Prometheus durations) in the policy's syntax. */
function windowOf(v: unknown): string | null {
  const m = WINDOW.exec(String(v ?? '').trim());
  if (!m) return null;
  return m[2] === 'w' ? `${7 * Number(m[1])}d` : `${m[1]}${m[2]}`;
}

/** Pyrra writes the target as a percentage string, "99.9". */
function targetOf(v: unknown): string | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  return n > 0 && n < 100 ? `${n}%` : null;
}

type Outcome = { ok: true; source: ImportedSlo['source']; notes: string[] } | { ok: false; why: string };

function metric(part: unknown): string | undefined {
  return isRecord(part) ? str(part.metric) : undefined;
}

/** Counter selectors as increase() over each range; anything else is said. */
function counts(parts: Record<string, string | undefined>, good: 'good' | 'bad'): Outcome {
  const out: Record<string, string> = {};
  for (const [key, q] of Object.entries(parts)) {
    if (!q) return { ok: false, why: `no ${key} metric` };
    const inc = counterIncrease(q);
    if (!inc) return { ok: false, why: `${key} metric ${q} is not a counter selector` };
    out[key] = inc;
  }
  const source =
    good === 'good' ? { good: out.good!, total: out.total! } : { bad: out.bad!, total: out.total! };
  return {
    ok: true,
    source,
    notes: ['counters read as their increase over each range (Pyrra takes their rate)'],
  };
}

function indicator(ind: Record<string, unknown>): Outcome {
  const grouping = (x: Record<string, unknown>) =>
    Array.isArray(x.grouping) && x.grouping.length > 0
      ? [`grouping (${x.grouping.join(', ')}) not kept: one series per SLO`]
      : [];
  if (isRecord(ind.ratio)) {
    const r = counts({ bad: metric(ind.ratio.errors), total: metric(ind.ratio.total) }, 'bad');
    return r.ok ? { ...r, notes: [...r.notes, ...grouping(ind.ratio)] } : r;
  }
  if (isRecord(ind.latency)) {
    const r = counts({ good: metric(ind.latency.success), total: metric(ind.latency.total) }, 'good');
    return r.ok ? { ...r, notes: [...r.notes, ...grouping(ind.latency)] } : r;
  }
  if (isRecord(ind.latencyNative))
    return {
      ok: false,
      why: `a native-histogram latency SLI (latencyNative, ${String(ind.latencyNative.latency)}): budget-gate counts good events from a classic bucket counter (le="…")`,
    };
  if (isRecord(ind.boolGauge))
    return {
      ok: false,
      why: 'a boolGauge SLI (a 0/1 gauge sampled over time): budget-gate counts events, not good samples',
    };
  return { ok: false, why: 'no ratio or latency indicator' };
}

export function importPyrra(text: string, file: string, opts: ImportOptions): ImportResult {
  const slos: ImportedSlo[] = [];
  const skipped: Skipped[] = [];
  for (const d of readDocuments(text, file)) {
    for (const item of itemsOf(d)) {
      if (!isRecord(item.value)) continue;
      const doc = item.value;
      const at = (path: (string | number)[]) => `${file}:${d.lineOf([...item.path, ...path])}`;
      const meta = isRecord(doc.metadata) ? doc.metadata : {};
      const name = str(meta.name) ?? 'slo';
      if (doc.apiVersion !== 'pyrra.dev/v1alpha1' || doc.kind !== 'ServiceLevelObjective') {
        skipped.push({
          origin: `pyrra ${at([])}`,
          why: `kind ${String(doc.kind ?? 'none')} (${String(doc.apiVersion ?? 'no apiVersion')}) is not a Pyrra ServiceLevelObjective (pyrra.dev/v1alpha1)`,
        });
        continue;
      }
      const spec = isRecord(doc.spec) ? doc.spec : {};
      const origin = `pyrra ${at([])} ${name}`;
      const ind = isRecord(spec.indicator)
        ? indicator(spec.indicator)
        : { ok: false as const, why: 'no indicator' };
      if (!ind.ok) {
        skipped.push({ origin: `pyrra ${at(['spec', 'indicator'])} ${name}`, why: ind.why });
        continue;
      }
      const target = targetOf(spec.target);
      if (target === null) {
        skipped.push({
          origin: `pyrra ${at(['spec', 'target'])} ${name}`,
          why: `target ${String(spec.target)}: expected a percentage between 0 and 100`,
        });
        continue;
      }
      const window = spec.window === undefined ? opts.defaultWindow : windowOf(spec.window);
      if (window === null) {
        skipped.push({
          origin: `pyrra ${at(['spec', 'window'])} ${name}`,
          why: `window ${String(spec.window)}: expected a duration such as 28d or 4w`,
        });
        continue;
      }
      const notes = [...ind.notes];
      if (spec.window === undefined) notes.push(`no window: ${opts.defaultWindow} (--window changes it)`);
      const alerting = isRecord(spec.alerting) ? spec.alerting : {};
      const off = alerting.disabled === true;
      if (off) notes.push('alerting disabled in the spec');
      const slo: ImportedSlo = {
        name: policyName(name),
        target,
        window,
        source: ind.source,
        origin,
        notes,
        // Pyrra's alerts are the workbook's burn table; a kind's labels are not in the spec.
        alerting: {
          name: str(alerting.name) ?? null,
          page: off ? null : {},
          ticket: off ? null : {},
          runbooks: { page: null, ticket: null },
        },
      };
      const description = str(spec.description);
      if (description) slo.description = description;
      slos.push(slo);
    }
  }
  return { slos, skipped };
}
