import { describe, expect, it } from 'vitest';
import {
  GitHubNotFoundError,
  GitHubPermissionError,
  GitHubProtectedBranchError,
  GitHubRateLimitError,
  refusals,
} from '../../src/github/errors.ts';
import { createOctokit } from '../../src/github/octokit.ts';
import { useNock } from '../support/nock.ts';
import { API, api, REPO } from './helpers.ts';

// GitHub's refusals, as GitHub sends them, classified by what GitHub said: the status alone does
// not tell a missing permission from a rate limit or a branch rule. The Octokit's `refusals` hook
// does it for every route in its table, so the calls here are plain Octokit calls.

const FILE = '/repos/acme/agents/contents/audit.jsonl';
/** No rate-limit retries: plugin-throttling has given up, as it does after its retries. */
const gh = () =>
  createOctokit({ token: 'ghs_test', baseUrl: API, rateLimitRetries: 0, retries: 0, writeGapMs: 0 });
const put = (o = gh()) =>
  o.request('PUT /repos/{owner}/{repo}/contents/{path}', {
    ...REPO,
    path: 'audit.jsonl',
    message: 'm',
    content: '',
    branch: 'budget-gate/audit',
  });
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

useNock('all-called');

describe('the refusals hook classifies what GitHub said', () => {
  it('a primary rate limit (403, x-ratelimit-remaining: 0) is a rate limit with its reset, not a permission', async () => {
    api().put(FILE).reply(
      403,
      {
        message: 'API rate limit exceeded for installation ID 1234.',
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
      },
      {
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': '1795000000',
        'x-ratelimit-resource': 'core',
      },
    );
    const err = await rejection(put());
    expect(err).toBeInstanceOf(GitHubRateLimitError);
    expect(err).not.toBeInstanceOf(GitHubPermissionError);
    expect(err).toMatchObject({ status: 403, resetAt: 1_795_000_000_000 });
    expect((err as Error).message).toContain('run it again after 2026-11-18T11:06:40.000Z');
    expect((err as Error).message).toContain('This is not a missing permission');
  });

  it('a secondary rate limit (429 with retry-after) is a rate limit', async () => {
    api().put(FILE).reply(
      429,
      {
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      },
      { 'retry-after': '60', date: 'Fri, 20 Nov 2026 09:00:00 GMT' },
    );
    const err = await rejection(put());
    expect(err).toBeInstanceOf(GitHubRateLimitError);
    expect(err).toMatchObject({ status: 429, resetAt: Date.parse('2026-11-20T09:01:00Z') });
  });

  it('a protected branch is named as such, whatever the status GitHub picks', async () => {
    for (const [status, message] of [
      [403, 'Protected branch update failed for refs/heads/budget-gate/audit.'],
      [409, 'Repository rule violations found\n\nChanges must be made through a pull request.\n\n'],
      [422, 'Protected branch update failed for refs/heads/budget-gate/audit.'],
    ] as const) {
      api()
        .put(FILE)
        .reply(status, { message, documentation_url: 'https://docs.github.com/rest/repos/contents' });
      const err = await rejection(put());
      expect(err).toBeInstanceOf(GitHubProtectedBranchError);
      expect(err).not.toBeInstanceOf(GitHubPermissionError);
      expect((err as Error).message).toMatch(
        /branch protection rule or ruleset forbids it.*more permissions will not help/,
      );
    }
  });

  it('a plain 403 is a missing permission, named', async () => {
    api().put(FILE).reply(403, {
      message: 'Resource not accessible by integration',
      documentation_url: 'https://docs.github.com/rest/repos/contents#create-or-update-file-contents',
    });
    const err = await rejection(put());
    expect(err).toBeInstanceOf(GitHubPermissionError);
    expect((err as Error).message).toMatch(
      /^GitHub refused PUT \/repos\/acme\/agents\/contents\/audit\.jsonl \(403 Resource not accessible by integration\): the token needs `contents: write`/,
    );
  });

  it('a 404 names the resource and the permission that would reveal it', async () => {
    api().post('/repos/acme/agents/pulls').reply(404, { message: 'Not Found' });
    const err = await rejection(
      gh().request('POST /repos/{owner}/{repo}/pulls', { ...REPO, head: 'fix', base: 'main', title: 't' }),
    );
    expect(err).toBeInstanceOf(GitHubNotFoundError);
    expect(err).toMatchObject({
      status: 404,
      resource: 'the repository acme/agents',
      permission: 'pull-requests: write',
    });
    expect((err as Error).message).toMatch(
      /^GitHub answered 404 for POST \/repos\/acme\/agents\/pulls: the repository acme\/agents does not exist, or the token cannot see it \(GitHub answers 404, not 403, to a token without `pull-requests: write`\)/,
    );
  });

  it('a call through a URL GitHub sent is matched by its route', async () => {
    api().post('/repos/acme/agents/actions/runs/7/deployment_protection_rule').reply(403, {
      message: 'Resource not accessible by integration',
    });
    const err = await rejection(
      gh().request({
        method: 'POST',
        url: `${API}/repos/acme/agents/actions/runs/7/deployment_protection_rule`,
        environment_name: 'production',
        state: 'approved',
      }),
    );
    expect(err).toBeInstanceOf(GitHubPermissionError);
    expect((err as Error).message).toMatch(
      /^GitHub refused POST \/repos\/acme\/agents\/actions\/runs\/7\/deployment_protection_rule \(403 .*\): the token needs `deployments: write`/,
    );
  });

  it('a GraphQL mutation is named by its operation', async () => {
    api().post('/graphql').reply(403, { message: 'Resource not accessible by integration' });
    const err = await rejection(
      gh().request('POST /graphql', {
        query: 'mutation($id: ID!) { enablePullRequestAutoMerge(input: {}) { x } }',
      }),
    );
    expect(err).toMatchObject({
      permission: 'pull-requests: write',
      call: 'POST /graphql enablePullRequestAutoMerge',
    });
  });

  it('a route the table does not name is passed through unchanged', async () => {
    api().get('/repos/acme/agents/collaborators/sre-lead/permission').reply(403, { message: 'Forbidden' });
    const err = await rejection(
      gh().request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', {
        ...REPO,
        username: 'sre-lead',
      }),
    );
    expect(err).toMatchObject({ name: 'HttpError', status: 403 });
  });

  it('a 404 the caller expects (a file not there yet) is passed through unchanged', async () => {
    const o = gh();
    api().get(FILE).reply(404, { message: 'Not Found' });
    const err = await rejection(
      o.request('GET /repos/{owner}/{repo}/contents/{path}', { ...REPO, path: 'audit.jsonl' }),
    );
    expect(err).toMatchObject({ name: 'HttpError', status: 404 });
  });

  it('anything that is not an HTTP error from Octokit is not dressed up as one', async () => {
    const duck = Object.assign(new Error('looks like a 403'), { status: 403 });
    let hook: ((e: unknown, o: object) => unknown) | undefined;
    refusals({ hook: { error: (_: string, fn: typeof hook) => (hook = fn) } } as never);
    expect(() => hook!(duck, { method: 'PUT', url: '/repos/{owner}/{repo}/contents/{path}' })).toThrow(duck);
  });
});
