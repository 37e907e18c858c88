import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real servers (Prometheus, PostgreSQL); give them room, never skip them.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
