import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { BACKENDS, type MetricsBackend, startBackend } from '../support/metrics-backends.ts';
import type { Series, SeriesSet } from '../support/series.ts';
import { tempDir } from '../support/tasks.ts';

// An imported policy is only worth having if it runs: the upstream examples, imported with a 7d
// window where they name none, evaluated by `budget-gate evaluate --prometheus` against a real Prometheus and a real
// VictoriaMetrics holding the counters their queries name. The figures are known exactly.

const MINUTE = 60_000;
const DAY = 86_400_000;
const AT = Date.parse('2026-11-20T00:00:00Z');
const FROM = AT - 8 * DAY;
/** Requests a minute: 9 answered 200, 1 answered 500 — 10% errors, over every SLO's budget. */
const OK = 9;
const ERR = 1;
const WEEK_MINUTES = 7 * 24 * 60;
/** What a 30d window sees: everything since the counters started, 8 days before AT. */
const ALL_MINUTES = 8 * 24 * 60;

function counter(family: string, name: string, labels: Record<string, string>, perMinute: number): Series {
  const samples: [number, number][] = [];
  for (let t = FROM, n = 0; t <= AT; t += MINUTE, n++) samples.push([t, n * perMinute]);
  return { family, name, labels, samples };
}

const SERIES: SeriesSet = {
  families: [
    { name: 'http_request_duration_seconds', type: 'histogram', help: 'Request latency.' },
    { name: 'http_requests', type: 'counter', help: 'Requests.' },
  ],
  series: [
    counter(
      'http_request_duration_seconds',
      'http_request_duration_seconds_count',
      { job: 'myservice', code: '200' },
      OK,
    ),
    counter(
      'http_request_duration_seconds',
      'http_request_duration_seconds_count',
      { job: 'myservice', code: '500' },
      ERR,
    ),
    counter('http_requests', 'http_requests_total', { status_code: '200' }, OK),
    counter('http_requests', 'http_requests_total', { status_code: '500' }, ERR),
  ],
};

const fixture = (p: string) => fileURLToPath(new URL(`../fixtures/import/${p}`, import.meta.url));

async function importTo(tool: 'sloth' | 'openslo', file: string): Promise<string> {
  const out = join(tempDir(), 'imported.yml');
  const r = await cli(['import', tool, fixture(file), '--window', '7d', '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

describe.each(BACKENDS)('imported policies, evaluated against a real %s', (kind) => {
  let server: MetricsBackend;
  beforeAll(async () => {
    server = await startBackend(kind, SERIES);
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  });

  it.each([
    // Sloth and this OpenSLO v1 file name no window: --window 7d. The v1alpha file says 30 days.
    ['sloth', 'sloth/getting-started.yml', 'myservice-requests-availability', WEEK_MINUTES],
    ['openslo', 'openslo/openslo-getting-started.yml', 'my-service-sloth-slo-my-service', ALL_MINUTES],
    ['openslo', 'openslo/v1_slos.yaml', 'foo-foo-slo', WEEK_MINUTES],
  ] as const)(
    '%s %s: the window’s counts, and a HARD-PAUSE for a 10%% error rate',
    async (tool, file, name, minutes) => {
      const policy = await importTo(tool, file);
      const r = await cli([
        'evaluate',
        '--policy',
        policy,
        '--prometheus',
        server.url,
        '--at',
        new Date(AT).toISOString(),
        '--json',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(1);
      const d = JSON.parse(r.stdout);
      expect(d.state).toBe('hard-pause');
      const slo = d.slos.find((s: { name: string }) => s.name === name);
      // Samples every minute on the range edges: increase() over the week is exact on both servers.
      expect(slo.events).toBeCloseTo(minutes * (OK + ERR), 6);
      expect(slo.bad).toBeCloseTo(minutes * ERR, 6);
    },
  );
});
