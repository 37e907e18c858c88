import type { ImportedAlerting, ImportedSlo, ImportOptions, ImportResult, Skipped } from './model.ts';
import { isRecord, itemsOf, policyName, readDocuments, str } from './model.ts';
import { fromTemplate, hasTemplateWindow } from './promql.ts';

// Sloth's service specs — the plain `prometheus/v1` file and the Kubernetes PrometheusServiceLevel
// (`sloth.slok.dev/v1`) — to budget-gate SLOs. Sloth writes snake_case keys in the plain file and
// camelCase in the CRD, and accepts both; so does this.

/** `error_query` and `errorQuery` alike. */
function get(o: Record<string, unknown>, camel: string): unknown {
  if (camel in o) return o[camel];
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return o[snake];
}

function labels(v: unknown): Record<string, string> {
  if (!isRecord(v)) return {};
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}

/** A runbook annotation, by Sloth's key or Prometheus's usual one. */
function runbookOf(annotations: unknown): string | null {
  if (!isRecord(annotations)) return null;
  return str(annotations.runbook) ?? str(annotations.runbook_url) ?? null;
}

function alerting(slo: Record<string, unknown>): ImportedAlerting {
  const a = isRecord(slo.alerting) ? slo.alerting : {};
  const kind = (key: string) => {
    const k = get(a, key);
    if (isRecord(k) && k.disable === true) return null;
    return { ...labels(a.labels), ...labels(isRecord(k) ? k.labels : undefined) };
  };
  // A kind's own annotations override the shared ones, as Sloth merges them.
  const runbook = (key: string) => {
    const k = get(a, key);
    return (isRecord(k) ? runbookOf(k.annotations) : null) ?? runbookOf(a.annotations);
  };
  return {
    name: str(a.name) ?? null,
    page: kind('pageAlert'),
    ticket: kind('ticketAlert'),
    runbooks: { page: runbook('pageAlert'), ticket: runbook('ticketAlert') },
  };
}

/**
 * A total that is a constant (`vector(1)`, `1`, with or without a range) makes the error query a
 * ratio, as in Sloth's VictoriaMetrics example: read as counts it would be one event per range.
 */
function isConstant(query: string): boolean {
  const q = query.replace(/\[\s*\{\{\s*\.window\s*\}\}\s*(:[^\]]*)?\]/g, '').trim();
  return /^(?:vector\s*\(\s*\d+(?:\.\d*)?\s*\)|\d+(?:\.\d*)?)$/.test(q);
}

/** Sloth's kinds in `sloth.slok.dev/v1` that hold SLOs, and the ones that hold something else. */
const SLO_KINDS = new Set(['PrometheusServiceLevel', 'ManagedPrometheusServiceLevel']);
const OTHER_KINDS: Record<string, string> = {
  AlertWindows:
    "Sloth's alert-window settings (the burn-rate windows for an SLO period), not SLOs: budget-gate's alert table is the policy's `alerts`",
};

/** Why a document is not a Sloth SLO spec, naming its kind first since that is what decides. */
function notSloth(doc: Record<string, unknown>): string {
  const kind = str(doc.kind);
  const api = str(doc.apiVersion);
  if (api === 'sloth.slok.dev/v1' && kind) {
    const other = OTHER_KINDS[kind];
    const period = isRecord(doc.spec) ? str(doc.spec.sloPeriod) : undefined;
    if (other)
      return `kind ${kind} is ${other}${period ? ` (its sloPeriod ${period}: --window ${period} imports SLOs for that period)` : ''}`;
    return `kind ${kind} holds no SLOs: Sloth's SLOs are in PrometheusServiceLevel (or ManagedPrometheusServiceLevel) resources`;
  }
  if (kind)
    return `kind ${kind}${api ? ` (${api})` : ''} is not a Sloth spec: expected \`version: prometheus/v1\` or a sloth.slok.dev/v1 PrometheusServiceLevel`;
  return `not a Sloth spec: expected \`version: prometheus/v1\` or \`apiVersion: sloth.slok.dev/v1\` with \`kind: PrometheusServiceLevel\`, got ${String(doc.version ?? api ?? 'neither')}`;
}

/** One objective, e.g. 99.9 → "99.9%"; anything else is named. */
function target(objective: unknown): string | null {
  if (typeof objective !== 'number' || !(objective > 0 && objective < 100)) return null;
  return `${objective}%`;
}

export function importSloth(text: string, file: string, opts: ImportOptions): ImportResult {
  const slos: ImportedSlo[] = [];
  const skipped: Skipped[] = [];
  for (const d of readDocuments(text, file)) {
    for (const item of itemsOf(d)) {
      const at = (path: (string | number)[]) => `${file}:${d.lineOf([...item.path, ...path])}`;
      if (!isRecord(item.value)) continue;
      const doc = item.value;
      const crd = doc.apiVersion === 'sloth.slok.dev/v1' && SLO_KINDS.has(String(doc.kind));
      if (!crd && doc.version !== 'prometheus/v1') {
        skipped.push({ origin: at([]), why: notSloth(doc) });
        continue;
      }
      const base = crd ? ['spec'] : [];
      const spec = crd ? (isRecord(doc.spec) ? doc.spec : {}) : doc;
      const service = str(spec.service) ?? '';
      if (get(spec, 'sloPlugins') !== undefined)
        skipped.push({
          origin: `sloth ${at([...base, 'slo_plugins'])}`,
          why: 'slo_plugins (SLO plugin chains) change the rules Sloth generates; budget-gate does not run them',
        });
      const list = Array.isArray(spec.slos) ? spec.slos : [];
      for (const [i, raw] of list.entries()) {
        const path = [...base, 'slos', i];
        if (!isRecord(raw)) continue;
        const name = str(raw.name) ?? `slo-${i}`;
        const origin = `sloth ${at(path)} ${service}/${name}`;
        const sli = isRecord(raw.sli) ? raw.sli : {};
        const events = isRecord(sli.events) ? sli.events : null;
        if (!events) {
          const what = isRecord(sli.raw)
            ? 'a raw error-ratio SLI (sli.raw)'
            : isRecord(sli.plugin)
              ? `an SLI plugin (${String(sli.plugin.id)})`
              : 'no sli.events';
          skipped.push({
            origin,
            why: `${what}: budget-gate needs error and total event queries (sli.events) to count the budget`,
          });
          continue;
        }
        const errorQuery = str(get(events, 'errorQuery'));
        const totalQuery = str(get(events, 'totalQuery'));
        const t = target(raw.objective);
        if (!errorQuery || !totalQuery || t === null) {
          skipped.push({
            origin,
            why:
              !errorQuery || !totalQuery
                ? 'sli.events needs both error_query and total_query'
                : `objective ${String(raw.objective)} is not a percentage between 0 and 100`,
          });
          continue;
        }
        if (!hasTemplateWindow(errorQuery) || !hasTemplateWindow(totalQuery)) {
          skipped.push({
            origin,
            why: 'a query without {{.window}} would read the same value for every range',
          });
          continue;
        }
        const notes = [
          `Sloth has no window field: ${opts.defaultWindow} (its default period; --window changes it)`,
        ];
        const waits = ['pageAlert', 'ticketAlert'].flatMap((k) => {
          const a = isRecord(raw.alerting) ? get(raw.alerting, k) : undefined;
          return isRecord(a) && a.for !== undefined
            ? [`${k === 'pageAlert' ? 'page' : 'ticket'} for: ${String(a.for)}`]
            : [];
        });
        if (waits.length > 0)
          notes.push(`alerting ${waits.join(', ')} not kept: budget-gate judges the burn at each evaluation`);
        let source: ImportedSlo['source'];
        if (isConstant(totalQuery)) {
          // The error query is already a ratio: its counts are not in Prometheus, but the ratio is
          // in the recording rules Sloth generates from this very spec.
          source = { sloth: { service, slo: name } };
          notes.push(
            `total_query ${totalQuery.trim()} is a constant, so error_query is a ratio, not a count: read from Sloth's recording rules (slo:sli_error:ratio_rate<window>), which have no event counts, so min_events cannot apply`,
          );
        } else {
          const bad = fromTemplate(errorQuery);
          const total = fromTemplate(totalQuery);
          if (bad.rateToIncrease || total.rateToIncrease)
            notes.push('rate() over the window read as increase(): same ratio, and counts');
          source = { bad: bad.query, total: total.query };
        }
        const slo: ImportedSlo = {
          name: policyName(service, name),
          target: t,
          window: opts.defaultWindow,
          source,
          origin,
          notes,
          alerting: alerting(raw),
        };
        const description = str(raw.description);
        if (description) slo.description = description;
        slos.push(slo);
      }
    }
  }
  return { slos, skipped };
}
