import type { Task } from './tasks.ts';

// The same tasks a JSONL file holds, as the counters an instrumented agent would export: a sample
// every minute, each the cumulative count of tasks stamped at or before it. Counters start at 0
// before the first task, so Prometheus's increase() needs no extrapolation and counts exactly.

const MINUTE = 60_000;

export function openMetricsFromTasks(tasks: Task[], from: number, to: number): string {
  const time = (t: Task) => (typeof t.time === 'number' ? t.time : Date.parse(t.time));
  const sorted = [...tasks].sort((a, b) => time(a) - time(b));
  const tiers = [...new Set(sorted.map((t) => t.attrs?.tier ?? 'none'))].sort();
  const series = new Map<string, string[]>();
  const counters = new Map<string, number>();
  const bump = (key: string, by = 1) => counters.set(key, (counters.get(key) ?? 0) + by);
  const keys: string[] = [];
  for (const tier of tiers) {
    for (const outcome of ['ok', 'error'])
      keys.push(`agent_tasks_total{tier="${tier}",outcome="${outcome}"}`);
    keys.push(`agent_task_duration_seconds_bucket{tier="${tier}",le="10.0"}`);
    keys.push(`agent_task_duration_seconds_bucket{tier="${tier}",le="+Inf"}`);
    keys.push(`agent_task_duration_seconds_count{tier="${tier}"}`);
    keys.push(`agent_task_duration_seconds_sum{tier="${tier}"}`);
  }
  for (const k of keys) series.set(k, []);
  let i = 0;
  for (let m = from; m <= to; m += MINUTE) {
    for (; i < sorted.length && time(sorted[i]!) <= m; i++) {
      const t = sorted[i]!;
      const tier = t.attrs?.tier ?? 'none';
      bump(`agent_tasks_total{tier="${tier}",outcome="${t.ok ? 'ok' : 'error'}"}`);
      if (t.latency_ms !== undefined) {
        if (t.latency_ms <= 10_000) bump(`agent_task_duration_seconds_bucket{tier="${tier}",le="10.0"}`);
        bump(`agent_task_duration_seconds_bucket{tier="${tier}",le="+Inf"}`);
        bump(`agent_task_duration_seconds_count{tier="${tier}"}`);
        bump(`agent_task_duration_seconds_sum{tier="${tier}"}`, t.latency_ms / 1000);
      }
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
    '# EOF',
    '',
  ].join('\n');
}
