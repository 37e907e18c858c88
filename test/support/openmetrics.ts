import type { Task } from './tasks.ts';

// The same tasks a JSONL file holds, as the counters an instrumented agent would export: a sample
// every minute, each the cumulative count of tasks stamped at or before it. Counters start at 0
// before the first task, so Prometheus's increase() needs no extrapolation and counts exactly.

const MINUTE = 60_000;
/** Bucket bounds at the example policy's thresholds: 10 s, $0.04. */
export const LATENCY_LE = 10;
export const COST_LE = 0.04;

export function openMetricsFromTasks(tasks: Task[], from: number, to: number): string {
  const time = (t: Task) => (typeof t.time === 'number' ? t.time : Date.parse(t.time));
  const sorted = [...tasks].sort((a, b) => time(a) - time(b));
  const tiers = [...new Set(sorted.map((t) => t.attrs?.tier ?? 'none'))].sort();
  const series = new Map<string, string[]>();
  const counters = new Map<string, number>();
  const bump = (key: string, by = 1) => counters.set(key, (counters.get(key) ?? 0) + by);
  const keys: string[] = [];
  // `le` as Go's client writes it (10, not 10.0), which is what Prometheus 2 stores.
  for (const tier of tiers) {
    for (const outcome of ['ok', 'error'])
      keys.push(`agent_tasks_total{tier="${tier}",outcome="${outcome}"}`);
    for (const [name, le] of [
      ['agent_task_duration_seconds', LATENCY_LE],
      ['agent_task_cost_usd', COST_LE],
    ] as const) {
      keys.push(`${name}_bucket{tier="${tier}",le="${le}"}`);
      keys.push(`${name}_bucket{tier="${tier}",le="+Inf"}`);
      keys.push(`${name}_count{tier="${tier}"}`);
      keys.push(`${name}_sum{tier="${tier}"}`);
    }
  }
  for (const k of keys) series.set(k, []);
  const observe = (name: string, tier: string, v: number, le: number) => {
    if (v <= le) bump(`${name}_bucket{tier="${tier}",le="${le}"}`);
    bump(`${name}_bucket{tier="${tier}",le="+Inf"}`);
    bump(`${name}_count{tier="${tier}"}`);
    bump(`${name}_sum{tier="${tier}"}`, v);
  };
  let i = 0;
  for (let m = from; m <= to; m += MINUTE) {
    for (; i < sorted.length && time(sorted[i]!) <= m; i++) {
      const t = sorted[i]!;
      const tier = t.attrs?.tier ?? 'none';
      bump(`agent_tasks_total{tier="${tier}",outcome="${t.ok ? 'ok' : 'error'}"}`);
      if (t.latency_ms !== undefined)
        observe('agent_task_duration_seconds', tier, t.latency_ms / 1000, LATENCY_LE);
      if (t.cost_usd !== undefined) observe('agent_task_cost_usd', tier, t.cost_usd, COST_LE);
    }
    const ts = m / 1000;
    for (const k of keys) series.get(k)!.push(`${k} ${counters.get(k) ?? 0} ${ts}`);
  }
  const family = (prefix: string) => keys.filter((k) => k.startsWith(prefix)).flatMap((k) => series.get(k)!);
  return [
    '# HELP agent_tasks Agent tasks finished, by outcome.',
    '# TYPE agent_tasks counter',
    ...family('agent_tasks_total'),
    '# HELP agent_task_duration_seconds Agent task latency.',
    '# TYPE agent_task_duration_seconds histogram',
    ...family('agent_task_duration_seconds'),
    '# HELP agent_task_cost_usd Model spend per agent task.',
    '# TYPE agent_task_cost_usd histogram',
    ...family('agent_task_cost_usd'),
    '# EOF',
    '',
  ].join('\n');
}
