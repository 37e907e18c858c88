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

export default defineConfig({
  test: {
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
        },
      },
      { extends: true, test: { name: 'servers', include: SERVERS } },
      { extends: true, test: { name: 'browser', include: BROWSER } },
      { extends: true, test: { name: 'processes', include: PROCESSES } },
    ],
  },
});
