import type { Task } from './tasks.ts';

// The same tasks a JSONL file holds, as the counters an instrumented agent would export: a sample
// every minute, each the cumulative count of tasks stamped at or before it. Counters start at 0
// before the first task, so increase() needs no extrapolation and counts exactly. The series are
// one value; each backend gets them in the format it loads (OpenMetrics for promtool, JSON lines
// for VictoriaMetrics' import API), so every server holds exactly the same samples.

const MINUTE = 60_000;
/** Bucket bounds at the example policy's thresholds: 10 s, $0.04. */
const LATENCY_LE = 10;
const COST_LE = 0.04;

export interface Series {
  /** Metric family (`agent_tasks`), for OpenMetrics' HELP/TYPE lines. */
  family: string;
  name: string;
  labels: Record<string, string>;
  /** [epoch ms, value], in time order. */
  samples: [number, number][];
}

export interface SeriesSet {
  families: { name: string; type: 'counter' | 'histogram' | 'gauge'; help: string }[];
  series: Series[];
}

export function seriesFromTasks(tasks: Task[], from: number, to: number): SeriesSet {
  const time = (t: Task) => (typeof t.time === 'number' ? t.time : Date.parse(t.time));
  const sorted = [...tasks].sort((a, b) => time(a) - time(b));
  const tiers = [...new Set(sorted.map((t) => t.attrs?.tier ?? 'none'))].sort();
  const series = new Map<string, Series>();
  const counters = new Map<string, number>();
  const add = (family: string, name: string, labels: Record<string, string>) => {
    const key = `${name}${JSON.stringify(labels)}`;
    series.set(key, { family, name, labels, samples: [] });
    return key;
  };
  const bump = (key: string, by = 1) => counters.set(key, (counters.get(key) ?? 0) + by);
  const keyOf = (name: string, labels: Record<string, string>) => `${name}${JSON.stringify(labels)}`;
  // `le` as Go's client writes it (10, not 10.0), which is what Prometheus 2 stores.
  for (const tier of tiers) {
    for (const outcome of ['ok', 'error']) add('agent_tasks', 'agent_tasks_total', { tier, outcome });
    for (const [family, le] of [
      ['agent_task_duration_seconds', LATENCY_LE],
      ['agent_task_cost_usd', COST_LE],
    ] as const) {
      add(family, `${family}_bucket`, { tier, le: String(le) });
      add(family, `${family}_bucket`, { tier, le: '+Inf' });
      add(family, `${family}_count`, { tier });
      add(family, `${family}_sum`, { tier });
    }
  }
  const observe = (family: string, tier: string, v: number, le: number) => {
    if (v <= le) bump(keyOf(`${family}_bucket`, { tier, le: String(le) }));
    bump(keyOf(`${family}_bucket`, { tier, le: '+Inf' }));
    bump(keyOf(`${family}_count`, { tier }));
    bump(keyOf(`${family}_sum`, { tier }), v);
  };
  let i = 0;
  for (let m = from; m <= to; m += MINUTE) {
    for (; i < sorted.length && time(sorted[i]!) <= m; i++) {
      const t = sorted[i]!;
      const tier = t.attrs?.tier ?? 'none';
      bump(keyOf('agent_tasks_total', { tier, outcome: t.ok ? 'ok' : 'error' }));
      if (t.latency_ms !== undefined)
        observe('agent_task_duration_seconds', tier, t.latency_ms / 1000, LATENCY_LE);
      if (t.cost_usd !== undefined) observe('agent_task_cost_usd', tier, t.cost_usd, COST_LE);
    }
    for (const [k, s] of series) s.samples.push([m, counters.get(k) ?? 0]);
  }
  return {
    families: [
      { name: 'agent_tasks', type: 'counter', help: 'Agent tasks finished, by outcome.' },
      { name: 'agent_task_duration_seconds', type: 'histogram', help: 'Agent task latency.' },
      { name: 'agent_task_cost_usd', type: 'histogram', help: 'Model spend per agent task.' },
    ],
    series: [...series.values()],
  };
}

const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`)
    .join(',');

/** OpenMetrics text, as `promtool tsdb create-blocks-from openmetrics` reads it: timestamps in seconds. */
export function toOpenMetrics(set: SeriesSet): string {
  const lines: string[] = [];
  for (const f of set.families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of set.series.filter((x) => x.family === f.name)) {
      const id = `${s.name}{${labelText(s.labels)}}`;
      for (const [t, v] of s.samples) lines.push(`${id} ${v} ${t / 1000}`);
    }
  }
  return [...lines, '# EOF', ''].join('\n');
}

/** VictoriaMetrics' JSON-lines import format (`/api/v1/import`): one series a line, times in ms. */
export function toVmJsonLines(set: SeriesSet): string {
  return set.series
    .map((s) =>
      JSON.stringify({
        metric: { __name__: s.name, ...s.labels },
        values: s.samples.map(([, v]) => v),
        timestamps: s.samples.map(([t]) => t),
      }),
    )
    .join('\n')
    .concat('\n');
}
