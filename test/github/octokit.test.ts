import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { statusOf } from '../../src/github/errors.ts';
import { assertAllCalled, setupNock } from '../support/nock.ts';
import { api, REPO, testOctokit } from './helpers.ts';

beforeAll(setupNock);
afterEach(assertAllCalled);

describe('createOctokit', () => {
  it('retries a 502 and counts both requests', async () => {
    const { gh, counter } = testOctokit();
    api().get('/repos/acme/agents').reply(502, { message: 'bad gateway' });
    api().get('/repos/acme/agents').reply(200, { full_name: 'acme/agents' });
    const res = await gh.request('GET /repos/{owner}/{repo}', REPO);
    expect(res.data.full_name).toBe('acme/agents');
    expect(counter.total).toBe(2);
    expect(counter.byRoute.get('GET /repos/acme/agents')).toBe(2);
  });

  it('never resends a 409: a stale sha can only conflict again', async () => {
    const { gh, counter } = testOctokit();
    api()
      .put('/repos/acme/agents/contents/audit.jsonl')
      .reply(409, { message: 'is at abc but expected def' });
    const err = await gh
      .request('PUT /repos/{owner}/{repo}/contents/{path}', {
        ...REPO,
        path: 'audit.jsonl',
        message: 'm',
        content: '',
      })
      .catch((e: unknown) => e);
    expect(statusOf(err)).toBe(409);
    expect(counter.total).toBe(1);
  });

  it('waits out a secondary rate limit and retries', async () => {
    const { gh, counter } = testOctokit();
    api()
      .get('/repos/acme/agents/pulls/1/files')
      .query(true)
      .reply(403, { message: 'You have exceeded a secondary rate limit.' }, { 'retry-after': '1' });
    api().get('/repos/acme/agents/pulls/1/files').query(true).reply(200, []);
    const res = await gh.request('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', {
      ...REPO,
      pull_number: 1,
    });
    expect(res.status).toBe(200);
    expect(counter.total).toBe(2);
  });

  it('sends the token and honours the configured base URL', async () => {
    const { gh } = testOctokit();
    api().matchHeader('authorization', 'token ghs_test').get('/repos/acme/agents').reply(200, {});
    await gh.request('GET /repos/{owner}/{repo}', REPO);
  });
});
