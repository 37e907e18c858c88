import {
  type ImportedSlo,
  type ImportOptions,
  type ImportResult,
  isRecord,
  itemsOf,
  policyName,
  readDocuments,
  type Skipped,
  str,
} from './model.ts';
import { counterIncrease, fromTemplate, hasTemplateWindow } from './promql.ts';

// OpenSLO `SLO` (and the `SLI`s and `DataSource`s they refer to) to budget-gate SLOs: v1, and the
// v1alpha that Sloth's own OpenSLO examples use. Only what budget-gate means the same way comes
// over — ratio metrics from Prometheus, Occurrences budgeting, rolling or calendar windows; every
// other thing is named with the reason.

export interface SpecFile {
  text: string;
  file: string;
}

interface SliContext {
  /** The `openslo.com/v1` dialect of osko. */
  osko?: boolean;
  /** osko's `osko.dev/datasourceRef` annotation: the data source of the SLO's queries. */
  datasourceRef?: string;
}

interface Item {
  value: Record<string, unknown>;
  at: string;
  /** Line of a node inside this item. */
  lineOf(path: (string | number)[]): number;
  file: string;
}

type Source = ImportedSlo['source'];
type Outcome<T> = { ok: true; value: T; notes: string[] } | { ok: false; why: string };

const UNITS: Record<string, string> = { m: 'm', h: 'h', d: 'd', w: 'w' };
const ALPHA_UNITS: Record<string, [number, string]> = {
  Second: [1, 's'],
  Minute: [1, 'm'],
  Hour: [1, 'h'],
  Day: [1, 'd'],
  Week: [7, 'd'],
  Month: [30, 'd'],
};

/** `2w` rolling → 14d; `1M` rolling → 30d (noted); calendar `1w`/`1M` → week/month. */
function windowOf(count: number, unit: string, rolling: boolean, calendar: unknown): Outcome<string> {
  const notes: string[] = [];
  if (!rolling) {
    if (count === 1 && (unit === 'w' || unit === 'Week'))
      return { ok: true, value: 'week', notes: calendarNotes(calendar) };
    if (count === 1 && (unit === 'M' || unit === 'Month'))
      return { ok: true, value: 'month', notes: calendarNotes(calendar) };
    return {
      ok: false,
      why: `a calendar window of ${count}${unit}: budget-gate's calendar windows are one week or one month`,
    };
  }
  if (unit === 'M' || unit === 'Month') {
    notes.push(`a rolling ${count} month window read as ${30 * count}d`);
    return { ok: true, value: `${30 * count}d`, notes };
  }
  const alpha = ALPHA_UNITS[unit];
  if (alpha) return { ok: true, value: `${alpha[0] * count}${alpha[1]}`, notes };
  if (UNITS[unit]) return { ok: true, value: unit === 'w' ? `${7 * count}d` : `${count}${unit}`, notes };
  return {
    ok: false,
    why: `a rolling window of ${count}${unit}: quarters and years are longer than budget-gate reads`,
  };
}

function calendarNotes(calendar: unknown): string[] {
  if (!isRecord(calendar)) return [];
  const tz = str(calendar.timeZone);
  return tz && tz !== 'UTC' && tz !== 'Etc/UTC'
    ? [
        `calendar periods start at 00:00 UTC (Monday, the 1st), not in ${tz} from ${String(calendar.startTime ?? 'its start time')}`,
      ]
    : [];
}

function v1Window(spec: Record<string, unknown>, opts: ImportOptions): Outcome<string> {
  const windows = Array.isArray(spec.timeWindow) ? spec.timeWindow : [];
  const w = windows[0];
  if (!isRecord(w))
    return {
      ok: true,
      value: opts.defaultWindow,
      notes: [`no timeWindow: ${opts.defaultWindow} (--window changes it)`],
    };
  const m = /^(\d+)([mhdwMQY])$/.exec(String(w.duration ?? ''));
  if (!m)
    return {
      ok: false,
      why: `timeWindow duration ${String(w.duration)}: expected a number and m, h, d, w, M, Q or Y`,
    };
  return windowOf(Number(m[1]), m[2]!, w.isRolling !== false, w.calendar);
}

function alphaWindow(spec: Record<string, unknown>, opts: ImportOptions): Outcome<string> {
  const windows = Array.isArray(spec.timeWindows) ? spec.timeWindows : [];
  const w = windows[0];
  if (!isRecord(w))
    return { ok: true, value: opts.defaultWindow, notes: [`no timeWindows: ${opts.defaultWindow}`] };
  const rolling = w.isRolling === undefined ? !isRecord(w.calendar) : w.isRolling === true;
  return windowOf(Number(w.count), String(w.unit), rolling, w.calendar);
}

/** One part's PromQL with the range placeholder; counter queries without a range take increase(). */
function promql(query: string, counter: boolean, part: string): Outcome<string> {
  if (hasTemplateWindow(query)) {
    const c = fromTemplate(query);
    return {
      ok: true,
      value: c.query,
      notes: c.rateToIncrease ? [`${part}: rate() over the window read as increase()`] : [],
    };
  }
  if (counter) {
    const q = counterIncrease(query);
    if (q)
      return { ok: true, value: q, notes: [`${part}: counter query, read as its increase over each range`] };
    return {
      ok: false,
      why: `${part} query ${query} is a counter but more than a selector (or sum of one): write it with [{{.window}}]`,
    };
  }
  return {
    ok: false,
    why: `${part} query ${query} has no {{.window}} and is not a counter: every range would read the same value`,
  };
}

/** good/bad/total of a ratio → a policy source. */
function ratioSource(parts: Record<string, string | undefined>, counter: boolean): Outcome<Source> {
  const notes: string[] = [];
  const conv = (part: string): Outcome<string> | null => {
    const q = parts[part];
    return q === undefined ? null : promql(q, counter, part);
  };
  const total = conv('total');
  const bad = conv('bad');
  const good = conv('good');
  if (!total) return { ok: false, why: 'the ratio has no total query' };
  for (const x of [total, bad, good]) {
    if (x && !x.ok) return x;
    if (x?.ok) notes.push(...x.notes);
  }
  if (bad?.ok && total.ok) return { ok: true, value: { bad: bad.value, total: total.value }, notes };
  if (good?.ok && total.ok) return { ok: true, value: { good: good.value, total: total.value }, notes };
  return { ok: false, why: 'the ratio needs a good or a bad query besides total' };
}

/** Data source types that speak Prometheus's query API (osko writes Mimir and Cortex). */
const PROMETHEUS_TYPES = new Set(['prometheus', 'mimir', 'cortex', 'thanos', 'victoriametrics']);
const isPrometheus = (type: unknown) => typeof type === 'string' && PROMETHEUS_TYPES.has(type.toLowerCase());

/** OpenSLO as the spec writes it, and `openslo.com/v1`: the same v1 as Kubernetes resources (osko). */
const V1 = new Set(['openslo/v1', 'openslo.com/v1']);
const VERSIONS = new Set([...V1, 'openslo/v1alpha']);

/** Other tools' resources, so a refusal names the importer that reads them. */
const OTHER_TOOLS: Record<string, string> = {
  'sloth.slok.dev/v1': 'import sloth',
  'pyrra.dev/v1alpha1': 'import pyrra',
};

/** Why an object is not imported, by its kind first: the kind is what decides. */
function notOpenSlo(doc: Record<string, unknown>): string {
  const kind = str(doc.kind) ?? 'no kind';
  const api = String(doc.apiVersion ?? 'no apiVersion');
  const other = OTHER_TOOLS[api];
  if (other) return `kind ${kind} (${api}) is not OpenSLO: \`budget-gate ${other}\` reads it`;
  return `kind ${kind} with apiVersion ${api}: expected OpenSLO objects (openslo/v1, openslo.com/v1 or openslo/v1alpha)`;
}

/** A target as a fraction: osko (Kubernetes) writes it as a string, "0.99". */
function fractionOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*\d*\.?\d+\s*$/.test(v)) return Number(v);
  return Number.NaN;
}

export function importOpenSlo(files: SpecFile[], opts: ImportOptions): ImportResult {
  const items: Item[] = [];
  for (const { text, file } of files) {
    for (const d of readDocuments(text, file)) {
      for (const it of itemsOf(d)) {
        if (!isRecord(it.value)) continue;
        items.push({
          value: it.value,
          at: `${file}:${d.lineOf(it.path)}`,
          lineOf: (p) => d.lineOf([...it.path, ...p]),
          file,
        });
      }
    }
  }
  const byKind = (kind: string) => items.filter((i) => i.value.kind === kind);
  const nameOf = (i: Item) => str(isRecord(i.value.metadata) ? i.value.metadata.name : undefined) ?? '';
  const slis = new Map(byKind('SLI').map((i) => [nameOf(i), i]));
  // osko spells the kind `Datasource`.
  const sources = new Map([...byKind('DataSource'), ...byKind('Datasource')].map((i) => [nameOf(i), i]));
  const usedSlis = new Set<string>();

  const slos: ImportedSlo[] = [];
  const skipped: Skipped[] = [];

  /** A v1 SLI spec's ratio as a policy source. */
  const v1Sli = (sli: Record<string, unknown>, ctx: SliContext = {}): Outcome<Source> => {
    if (isRecord(sli.thresholdMetric))
      return {
        ok: false,
        why: 'a thresholdMetric SLI: budget-gate counts good and bad events, it does not threshold a single metric',
      };
    const ratio = isRecord(sli.ratioMetric) ? sli.ratioMetric : null;
    if (!ratio) return { ok: false, why: 'the SLI has neither ratioMetric nor thresholdMetric' };
    if (isRecord(ratio.raw))
      return {
        ok: false,
        why: 'a raw ratioMetric (a precomputed ratio): budget-gate needs the event counts behind it',
      };
    const parts: Record<string, string | undefined> = {};
    const extra: string[] = [];
    for (const part of ['good', 'bad', 'total']) {
      const p = ratio[part];
      if (!isRecord(p)) continue;
      const ms = isRecord(p.metricSource) ? p.metricSource : {};
      const typeOf = (ref: string | undefined) =>
        ref && sources.get(ref)
          ? (sources.get(ref)!.value.spec as Record<string, unknown> | undefined)?.type
          : undefined;
      const type = ms.type ?? typeOf(str(ms.metricSourceRef)) ?? typeOf(ctx.datasourceRef);
      if (type === undefined && ctx.osko) {
        // osko reads every SLO from its Mimir data source: an untyped source is that one.
        extra.push(`${part}: no source type: read as Prometheus-compatible (osko's Mimir)`);
      } else if (!isPrometheus(type))
        return {
          ok: false,
          why: `${part} reads from ${String(type ?? 'an unnamed source')}: budget-gate reads Prometheus-compatible APIs only`,
        };
      const q = isRecord(ms.spec) ? str(ms.spec.query) : undefined;
      if (!q) return { ok: false, why: `${part} has no Prometheus query (metricSource.spec.query)` };
      parts[part] = q;
      const dims = isRecord(ms.spec) && Array.isArray(ms.spec.dimensions) ? ms.spec.dimensions : [];
      if (dims.length > 0)
        extra.push(`${part}: dimensions (${dims.join(', ')}) not kept: one series per SLO`);
    }
    // osko's queries name counters with no range (it wraps them itself), like counter: true.
    const r = ratioSource(parts, ratio.counter === true || ctx.osko === true);
    return r.ok ? { ...r, notes: [...extra, ...r.notes] } : r;
  };

  for (const item of items) {
    const { value: doc } = item;
    const version = doc.apiVersion;
    if (!VERSIONS.has(String(version))) {
      skipped.push({ origin: item.at, why: notOpenSlo(doc) });
      continue;
    }
    if (doc.kind !== 'SLO') continue;
    const name = nameOf(item) || 'slo';
    const spec = isRecord(doc.spec) ? doc.spec : {};
    const service = str(spec.service);
    const origin = (path: (string | number)[]) => `openslo ${item.file}:${item.lineOf(path)} ${name}`;
    const method = str(spec.budgetingMethod) ?? 'Occurrences';
    if (method !== 'Occurrences') {
      skipped.push({
        origin: origin(['spec', 'budgetingMethod']),
        why: `${method} budgeting counts good time slices, not events: budget-gate budgets Occurrences only`,
      });
      continue;
    }
    const baseNotes =
      spec.budgetingMethod === undefined ? ['no budgetingMethod: Occurrences, the usual default'] : [];
    if (Array.isArray(spec.alertPolicies) && spec.alertPolicies.length > 0)
      baseNotes.push('alertPolicies are not imported: the policy keeps the workbook burn-rate alerts');
    const v1 = V1.has(String(version));
    const meta = isRecord(doc.metadata) ? doc.metadata : {};
    const ctx: SliContext = {
      osko: version === 'openslo.com/v1',
      datasourceRef: isRecord(meta.annotations) ? str(meta.annotations['osko.dev/datasourceRef']) : undefined,
    };
    const window = v1 ? v1Window(spec, opts) : alphaWindow(spec, opts);
    if (!window.ok) {
      skipped.push({ origin: origin(['spec']), why: window.why });
      continue;
    }

    // v1: one SLI for all objectives (inline or by reference). v1alpha: a ratio per objective.
    // A composite SLO (v1) has no shared indicator: each objective carries its own.
    const indicatorOf = (holder: Record<string, unknown>): Outcome<Source> | null => {
      const inline =
        isRecord(holder.indicator) && isRecord(holder.indicator.spec) ? holder.indicator.spec : null;
      const ref = str(holder.indicatorRef);
      if (!inline && !ref) return null;
      if (ref) usedSlis.add(ref);
      const sli =
        inline ??
        (ref && slis.get(ref) && isRecord(slis.get(ref)!.value.spec)
          ? (slis.get(ref)!.value.spec as Record<string, unknown>)
          : null);
      return sli
        ? v1Sli(sli, ctx)
        : { ok: false, why: `indicatorRef ${ref}: no SLI of that name in the files given` };
    };
    const objectiveList = Array.isArray(spec.objectives) ? spec.objectives : [];
    const composite =
      v1 && objectiveList.some((o) => isRecord(o) && (isRecord(o.indicator) || str(o.indicatorRef)));
    let shared: Outcome<Source> | null = null;
    if (v1 && !composite)
      shared = indicatorOf(spec) ?? {
        ok: false,
        why: 'no indicator or indicatorRef, on the SLO or on its objectives',
      };
    if (composite)
      baseNotes.push(
        'one objective of a composite SLO: each is its own policy SLO, so the gate pauses when any of them burns, as the composite does',
      );
    const objectives = objectiveList;
    for (const [i, o] of objectives.entries()) {
      if (!isRecord(o)) continue;
      const path = ['spec', 'objectives', i];
      const label = str(o.displayName);
      let source: Outcome<Source>;
      const own = composite ? indicatorOf(o) : null;
      if (composite)
        source = own ?? {
          ok: false,
          why: 'an objective of a composite SLO without its indicator or indicatorRef',
        };
      else if (shared) source = shared;
      else if (isRecord(o.ratioMetrics)) {
        const r = o.ratioMetrics;
        const parts: Record<string, string | undefined> = {};
        let wrong: string | null = null;
        for (const part of ['good', 'bad', 'total']) {
          const p = r[part];
          if (!isRecord(p)) continue;
          if (!isPrometheus(p.source))
            wrong = `${part} reads from ${String(p.source)}: budget-gate reads Prometheus-compatible APIs only`;
          parts[part] = str(p.query);
        }
        source = wrong ? { ok: false, why: wrong } : ratioSource(parts, r.incremental === true);
      } else
        source = {
          ok: false,
          why: 'an objective without ratioMetrics (a threshold objective): budget-gate counts good and bad events',
        };
      const where = origin(path) + (label ? ` (objective "${label}")` : '');
      if (!source.ok) {
        skipped.push({ origin: where, why: source.why });
        continue;
      }
      const t = o.target !== undefined ? fractionOf(o.target) : fractionOf(o.targetPercent) / 100;
      if (!(t > 0 && t < 1)) {
        skipped.push({
          origin: where,
          why: `target ${String(o.target ?? o.targetPercent)}: expected a fraction between 0 and 1`,
        });
        continue;
      }
      const slo: ImportedSlo = {
        name: policyName(service, name, objectives.length > 1 ? (label ?? String(i + 1)) : undefined),
        target: t,
        window: window.value,
        source: source.value,
        origin: where,
        notes: [
          ...baseNotes,
          ...window.notes,
          ...source.notes,
          ...(typeof o.compositeWeight === 'number' && o.compositeWeight !== 1
            ? [`compositeWeight ${o.compositeWeight} not kept: each objective burns its own budget`]
            : []),
        ],
      };
      const description = str(spec.description);
      if (description) slo.description = description;
      slos.push(slo);
    }
    if (objectives.length === 0) skipped.push({ origin: origin(['spec']), why: 'no objectives' });
  }
  for (const [name, sli] of slis) {
    if (usedSlis.has(name)) continue;
    // Say what would stop it too, so a file of SLIs alone still learns what does not carry over.
    const r = isRecord(sli.value.spec) ? v1Sli(sli.value.spec) : null;
    const unused = 'no SLO in the files given refers to it (indicatorRef)';
    skipped.push({
      origin: `openslo ${sli.at} SLI ${name}`,
      why: r && !r.ok ? `${r.why}; and ${unused}` : unused,
    });
  }
  return { slos, skipped };
}
