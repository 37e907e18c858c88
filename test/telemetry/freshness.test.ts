import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ageText } from '../../src/telemetry/freshness.ts';
import { cli } from '../support/cli.ts';
import { BACKENDS, type MetricsBackend, startBackend } from '../support/metrics-backends.ts';
import type { Series, SeriesSet } from '../support/series.ts';
import { steadyTasks, tempDir, writeTasks } from '../support/tasks.ts';

// Stale telemetry must not gate as if it were current: a file whose newest task is 13 days old, or
// a Prometheus whose scrape stopped, is a telemetry error with its age and likely cause, decided by
// the policy's on_telemetry_error; within states.max_data_age (or with --at) it evaluates as ever.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const END = Date.parse('2026-11-07T09:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const policy = (extra = '', source = '') => {
  const dir = tempDir();
  const path = join(dir, 'p.yml');
  writeFileSync(
    path,
    `version: 1
slos:
  - name: tasks
    sli: { kind: success }
    target: 0.95
    window: 7d
    scope: all
${source}risk: { rules: [{ paths: ["prompts/**"], class: high }] }
states:
  min_events: 10
${extra}`,
  );
  return path;
};

describe('the age of the newest data', () => {
  it('is said the way a person reads it', () => {
    expect([30_000, 42 * MINUTE, 7 * HOUR, 13 * DAY + 5 * HOUR].map(ageText)).toEqual([
      '30s',
      '42m',
      '7h',
      '13d',
    ]);
  });
});

describe('a JSONL file', () => {
  /** `budget-gate evaluate --json` of the file under `policyPath`, at `at`. */
  const evaluateAt = (policyPath: string, at: number) =>
    cli(['evaluate', '--policy', policyPath, '--telemetry', file, '--at', iso(at), '--json']);
  const file = writeTasks(
    tempDir(),
    't.jsonl',
    steadyTasks(END - 6 * DAY, END, 1, () => 0.01),
  );

  it('13 days old: a telemetry error with the age and the likely cause, blocked by default', async () => {
    const r = await evaluateAt(policy(), END + 13 * DAY);
    // Unreadable telemetry is exit 2, as the CLI's contract says; the decision blocks.
    expect(r.code).toBe(2);
    const d = JSON.parse(r.stdout);
    expect(d.allowed).toBe(false);
    expect(d.telemetry.error).toMatch(
      /newest task 13d old at 2026-11-20T09:00:00\.000Z \(2026-11-07T08:59:30\.000Z\), more than the 6h states\.max_data_age allows: is the file current/,
    );
    expect(r.stderr).toContain('newest task 13d old');
  });

  it('on_telemetry_error: allow lets it through, with the reason still in the decision', async () => {
    const r = await evaluateAt(policy('  on_telemetry_error: allow\n'), END + 13 * DAY);
    expect(r.code).toBe(2);
    const d = JSON.parse(r.stdout);
    expect(d.allowed).toBe(true);
    expect(d.telemetry.error).toContain('newest task 13d old');
  });

  it('within the default 6h, or the policy’s own limit, or at the right --at: evaluated as ever', async () => {
    for (const [extra, at] of [
      ['', END + 5 * HOUR],
      ['  max_data_age: 14d\n', END + 13 * DAY],
      ['  max_data_age: { jsonl: 14d, prometheus: 5m }\n', END + 13 * DAY],
      ['', END],
    ] as const) {
      const r = await evaluateAt(policy(extra), at);
      expect(JSON.parse(r.stdout).telemetry.error, `${extra} ${iso(at)}`).toBeNull();
    }
  });

  it('a policy’s limit for one source leaves the other’s default', async () => {
    const r = await evaluateAt(policy('  max_data_age: { prometheus: 30m }\n'), END + 7 * HOUR);
    expect(JSON.parse(r.stdout).telemetry.error).toContain('newest task 7h old');
  });

  it('a bad max_data_age is a located policy error', async () => {
    const r = await cli(['lint', policy('  max_data_age: { jsonl: soon }\n')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/p\.yml:\d+:\d+ states\.max_data_age/);
  });
});

/** A counter of 10 tasks a minute, 1 of them bad, from `from` to `to`: a scrape that stopped at `to`. */
function counters(from: number, to: number): SeriesSet {
  const series = (code: string, perMinute: number): Series => {
    const samples: [number, number][] = [];
    for (let t = from, n = 0; t <= to; t += MINUTE, n++) samples.push([t, n * perMinute]);
    return { family: 'agent_tasks', name: 'agent_tasks_total', labels: { code }, samples };
  };
  return {
    families: [{ name: 'agent_tasks', type: 'counter', help: 'Tasks.' }],
    series: [series('200', 9), series('500', 1)],
  };
}

const SOURCE = `    source:
      prometheus:
        bad: sum(increase(agent_tasks_total{code="500"}[\${window}]))
        total: sum(increase(agent_tasks_total[\${window}]))
`;

describe.each(BACKENDS)('a real %s whose scrape stopped', (kind) => {
  let server: MetricsBackend;
  beforeAll(async () => {
    server = await startBackend(kind, counters(END - 2 * DAY, END));
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  });

  const evaluate = (at: number, extra = '') =>
    cli([
      'evaluate',
      '--policy',
      policy(extra, SOURCE),
      '--prometheus',
      server.url,
      '--at',
      iso(at),
      '--json',
    ]);

  it('at the last scrape: evaluated as ever', async () => {
    const r = await evaluate(END);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).telemetry.error).toBeNull();
  });

  it('30 minutes on: the newest sample’s age, over the 10m default, blocks', async () => {
    const r = await evaluate(END + 30 * MINUTE);
    expect(r.code).toBe(2);
    // The newest sample is the one at END (a server may see it up to a scrape later).
    expect(JSON.parse(r.stdout).telemetry.error).toMatch(
      /newest sample (29|30)m old at 2026-11-07T09:30:00\.000Z .*more than the 10m states\.max_data_age allows: has the scrape stopped/,
    );
  });

  it('hours on: no sample in the span looked at', async () => {
    const r = await evaluate(END + 5 * HOUR);
    expect(JSON.parse(r.stdout).telemetry.error).toMatch(
      /no sample in the 60m before 2026-11-07T14:00:00\.000Z, more than the 10m states\.max_data_age allows/,
    );
  });

  it('a policy that allows an hour: 30 minutes on is fine', async () => {
    const r = await evaluate(END + 30 * MINUTE, '  max_data_age: { prometheus: 1h }\n');
    expect(JSON.parse(r.stdout).telemetry.error).toBeNull();
  });
});
