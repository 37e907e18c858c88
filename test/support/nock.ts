import nock from 'nock';
import { afterEach, beforeEach } from 'vitest';

// Every GitHub call in the tests goes to nock; only loopback servers (the real Prometheus,
// PostgreSQL, stand-ins) may be reached for real.

export function setupNock(): void {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
}

/** Fails the test when a mocked endpoint was not called. */
export function assertAllCalled(): void {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  if (pending.length > 0) throw new Error(`GitHub endpoints not called: ${pending.join(', ')}`);
}

/**
 * For every test of the file: GitHub only through nock, and the mocks cleared after each test;
 * with `all-called`, a mock a test left uncalled fails it.
 */
export function useNock(after: 'clear' | 'all-called' = 'clear'): void {
  beforeEach(setupNock);
  afterEach(after === 'all-called' ? assertAllCalled : () => void nock.cleanAll());
}
