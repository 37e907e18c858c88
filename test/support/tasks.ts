import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface Task {
  time: number | string;
  ok: boolean;
  latency_ms?: number;
  cost_usd?: number;
  attrs?: Record<string, string>;
}

export function tempDir(prefix = 'bg-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `text` as `name` in a fresh temporary folder and returns the path. */
export function writeTemp(name: string, text: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

/** Writes task records as JSONL (gzipped when the name ends in .gz) and returns the path. */
export function writeTasks(dir: string, name: string, tasks: Task[]): string {
  const path = join(dir, name);
  const text = tasks.map((t) => JSON.stringify(t)).join('\n') + '\n';
  writeFileSync(path, name.endsWith('.gz') ? gzipSync(text) : text);
  return path;
}

/**
 * `perMinute` tasks every minute over [from, to), failing at `failRate` (exactly: every k-th task),
 * so counts are known without randomness.
 */
export function steadyTasks(
  from: number,
  to: number,
  perMinute: number,
  failRate: (t: number) => number,
  attrs?: Record<string, string>,
): Task[] {
  const out: Task[] = [];
  let acc = 0;
  for (let m = from; m < to; m += 60_000) {
    for (let i = 0; i < perMinute; i++) {
      const t = m + Math.floor(((i + 0.5) * 60_000) / perMinute);
      acc += failRate(t);
      const bad = acc >= 1;
      if (bad) acc -= 1;
      out.push({
        time: t,
        ok: !bad,
        latency_ms: bad ? 12_000 : 3_000,
        cost_usd: 0.02,
        ...(attrs ? { attrs } : {}),
      });
    }
  }
  return out;
}
