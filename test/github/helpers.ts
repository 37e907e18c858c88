import nock from 'nock';
import { createOctokit, type GateOctokitInstance, RequestCounter } from '../../src/github/octokit.ts';

export const API = 'https://api.github.test';
export const REPO = { owner: 'acme', repo: 'agents' };

/** An Octokit pointed at nock, counting requests, retrying fast. */
export function testOctokit(): { gh: GateOctokitInstance; counter: RequestCounter } {
  const counter = new RequestCounter();
  const gh = createOctokit({ token: 'ghs_test', baseUrl: API, counter, retryBaseMs: 1 });
  return { gh, counter };
}

export function api(): nock.Scope {
  return nock(API);
}

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

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');
