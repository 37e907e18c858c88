import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Four projects, so the fast part runs alone (`npm run test:unit`: no root, no servers, no browser)
// and `npm test` runs them all. Files are placed by what they need, not by folder alone.
const SERVERS = [
  'test/telemetry/prometheus/equivalence.test.ts',
  'test/telemetry/prometheus/prometheus3.test.ts',
  'test/telemetry/prometheus/recording-rules.test.ts',
  'test/telemetry/proxy.test.ts',
  'test/import/evaluate.test.ts',
  'test/bot/postgres.test.ts',
  'test/bot/evaluator.test.ts',
  'test/bot/discovery-lease.test.ts',
  'test/bot/readme-alerts.test.ts',
  'test/server/**/*.test.ts',
];
const BROWSER = ['test/report/charts-browser.test.ts', 'test/browser/**/*.test.ts'];
// Child processes: the bundled Action, the bot process killed mid-request, the fuzz workers.
const PROCESSES = [
  'test/action/**/*.test.ts',
  'test/gate/replay.test.ts',
  'test/bot/crash/**/*.test.ts',
  'test/fuzz/**/*.test.ts',
  'test/process/**/*.test.ts',
];

// The servers project waits far more than it computes (Prometheus, PostgreSQL, VictoriaMetrics
// starting and answering): its files run side by side in more workers than there are cores. The
// others compute more (property tests, Chromium drawing, bot processes starting by the dozen), but
// a process test also waits on its children and the local GitHub: one file per core left a core
// idle (the processes project alone on 2 cores: 2 workers 276 s at 1.16 cores busy, 3 workers
// 212 s at 1.77; unit and browser together 156 s -> 134 s), so one more worker than cores, and no
// more, so a loaded machine does not starve them into timeouts. Projects with one worker count
// share a pool (and a groupOrder).
// BUDGET_GATE_TEST_WORKERS overrides the servers' count (1: one file at a time).
const CORES = availableParallelism();
const WAITING = { maxWorkers: Number(process.env.BUDGET_GATE_TEST_WORKERS) || Math.max(4, CORES * 2) };
const COMPUTING = { maxWorkers: Math.min(CORES + 1, WAITING.maxWorkers) };

// Caches of this checkout only: node_modules may be shared (a worktree's is a link to another
// checkout's), and two runs from two checkouts must not read or write each other's.
const CACHE = join(import.meta.dirname, '.cache');

export default defineConfig({
  cacheDir: join(CACHE, 'vite'),
  test: {
    fsModuleCachePath: join(CACHE, 'vitest-modules'),
    // Integration tests start real servers (Prometheus, PostgreSQL); give them room, never skip them.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...SERVERS, ...BROWSER, ...PROCESSES],
          ...COMPUTING,
          sequence: { groupOrder: 1 },
        },
      },
      { extends: true, test: { name: 'servers', include: SERVERS, ...WAITING, sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: { name: 'browser', include: BROWSER, ...COMPUTING, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: { name: 'processes', include: PROCESSES, ...COMPUTING, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
