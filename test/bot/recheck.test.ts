import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collectingLog } from '../../src/bot/log.ts';
import { recheckHeld } from '../../src/bot/recheck.ts';
import { assertAllCalled, setupNock } from '../support/nock.ts';
import { API } from './support.ts';

// Held pull requests re-checked when the state changes: the gate's job is re-run through the
// Actions API (POST …/actions/jobs/{job_id}/rerun; an Actions check run's id is its job's id), for
// the checks whose conclusion the change can flip — failed ones when a pause lifts, passed ones
// when a pause begins. Check runs of other apps, or of other conclusions, are left alone.

const gh = () =>
  new ProbotOctokit({ auth: { token: 'ghs_test' }, retry: { enabled: false }, throttle: { enabled: false } });
const run = (id: number, conclusion: string, slug = 'github-actions') => ({
  id,
  name: 'gate',
  head_sha: 'x',
  status: 'completed',
  conclusion,
  app: { id: 15368, slug, name: 'GitHub Actions' },
});

beforeAll(setupNock);
afterEach(() => nock.cleanAll());

describe('held pull requests re-checked', () => {
  it('when the pause lifts, re-runs the failed gate jobs only', async () => {
    nock(API)
      .get('/repos/acme/agents/pulls')
      .query({ state: 'open', per_page: 100 })
      .reply(200, [
        { number: 7, head: { sha: 'a'.repeat(40) } },
        { number: 8, head: { sha: 'b'.repeat(40) } },
      ])
      .get(`/repos/acme/agents/commits/${'a'.repeat(40)}/check-runs`)
      .query({ check_name: 'gate', filter: 'latest' })
      .reply(200, {
        total_count: 2,
        check_runs: [run(111, 'failure'), run(112, 'failure', 'some-other-app')],
      })
      .get(`/repos/acme/agents/commits/${'b'.repeat(40)}/check-runs`)
      .query({ check_name: 'gate', filter: 'latest' })
      .reply(200, { total_count: 1, check_runs: [run(221, 'success')] })
      .post('/repos/acme/agents/actions/jobs/111/rerun')
      .reply(201, {});
    const r = await recheckHeld(
      gh(),
      { owner: 'acme', repo: 'agents' },
      'soft-pause',
      'ship',
      'gate',
      collectingLog(),
    );
    expect(r).toEqual({ rerun: [{ pull: 7, job: 111 }], errors: [] });
    assertAllCalled();
  });

  it('when a pause begins, re-runs the passed ones; without actions: write, says what to grant', async () => {
    nock(API)
      .get('/repos/acme/agents/pulls')
      .query(true)
      .reply(200, [{ number: 8, head: { sha: 'b'.repeat(40) } }])
      .get(`/repos/acme/agents/commits/${'b'.repeat(40)}/check-runs`)
      .query(true)
      .reply(200, { total_count: 1, check_runs: [run(221, 'success')] })
      .post('/repos/acme/agents/actions/jobs/221/rerun')
      .reply(403, { message: 'Resource not accessible by integration', status: '403' });
    const log = collectingLog();
    const r = await recheckHeld(gh(), { owner: 'acme', repo: 'agents' }, 'ship', 'hard-pause', 'gate', log);
    expect(r.rerun).toEqual([]);
    expect(r.errors).toEqual([
      '#8: gate job 221 not re-run: the installation has not granted `actions: write` (accept the new permission in the App settings)',
    ]);
    assertAllCalled();
  });
});
