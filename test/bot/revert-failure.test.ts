import { Octokit } from '@octokit/core';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { collectingLog } from '../../src/bot/log.ts';
import { reportRevertFailed } from '../../src/bot/revert/failed.ts';
import { openRevert } from '../../src/bot/revert/revert.ts';
import { Watcher } from '../../src/bot/watcher.ts';
import { refusals } from '../../src/github/errors.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { assertAllCalled, useNock } from '../support/nock.ts';
import { EVIDENCE, seedBreach } from './crash/matrix.ts';
import { NEW_COMMIT, NEW_TREE, TIP, TIP_TREE } from './revert-nock.ts';
import {
  API,
  DEPLOYED_SHA,
  DEPLOYMENT_ID,
  MIN,
  POLICY_TEXT,
  PREVIOUS_SHA,
  REPO_PATH,
  SHIPPED_PR,
  scenarioSource,
} from './support.ts';

// A revert that cannot succeed (the App may not push: POST git/refs is refused with a 403) is
// tried a bounded number of times, each after a longer wait, then ends `failed`, and says so where
// people look: an `error` status on the deployment and a comment on the pull request that shipped
// it, both carrying GitHub's error.

useNock();

/** The reads of one attempt, then the refusal. */
function nockRefusedAttempt() {
  nock(API)
    .get(`${REPO_PATH}/compare/${PREVIOUS_SHA}...${DEPLOYED_SHA}`)
    .reply(200, {
      status: 'ahead',
      total_commits: 1,
      files: [{ filename: 'prompts/refund.md', status: 'modified' }],
    })
    .get(`${REPO_PATH}/branches/master`)
    .reply(200, { name: 'master', commit: { sha: TIP, commit: { tree: { sha: TIP_TREE } } } })
    .get(`${REPO_PATH}/compare/${DEPLOYED_SHA}...${TIP}`)
    .reply(200, { status: 'ahead', total_commits: 1, files: [] })
    .get(`${REPO_PATH}/git/trees/${PREVIOUS_SHA}`)
    .query({ recursive: '1' })
    .reply(200, {
      truncated: false,
      tree: [{ path: 'prompts/refund.md', mode: '100644', type: 'blob', sha: 'b'.repeat(40) }],
    })
    .post(`${REPO_PATH}/git/trees`)
    .reply(201, { sha: NEW_TREE })
    .post(`${REPO_PATH}/git/commits`)
    .reply(201, { sha: NEW_COMMIT })
    .post(`${REPO_PATH}/git/refs`)
    .reply(403, { message: 'Resource not accessible by integration' });
}

function nockFailureReport(o: { statusThere?: boolean; commentThere?: boolean } = {}) {
  const sent: { status?: any; comment?: any } = {};
  // A body matcher that keeps what the bot sent, to assert on after the request.
  const keep = (what: keyof typeof sent) => (b: unknown) => {
    sent[what] = b;
    return true;
  };
  const scope = nock(API)
    .get(`${REPO_PATH}/deployments/${DEPLOYMENT_ID}/statuses`)
    .query({ per_page: 100 })
    .reply(
      200,
      o.statusThere ? [{ state: 'error', description: 'budget-gate: revert failed (3 attempts): …' }] : [],
    )
    .get(`${REPO_PATH}/issues/${SHIPPED_PR}/comments`)
    .query(true)
    .reply(
      200,
      o.commentThere ? [{ body: `x\n<!-- budget-gate:revert-failed deployment=${DEPLOYMENT_ID} -->` }] : [],
    );
  if (!o.statusThere)
    scope.post(`${REPO_PATH}/deployments/${DEPLOYMENT_ID}/statuses`, keep('status')).reply(201, {});
  if (!o.commentThere)
    scope.post(`${REPO_PATH}/issues/${SHIPPED_PR}/comments`, keep('comment')).reply(201, {});
  return sent;
}

async function setup() {
  const store = new SqliteWatchStore(':memory:');
  await seedBreach(store);
  let now = Date.now();
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  // The core client with the refusals hook: no throttling to space the writes a second apart.
  const gh = new (Octokit.plugin(refusals))({ auth: 't', baseUrl: API });
  const policy = loadPolicy(POLICY_TEXT, 'p.yml').policy;
  const log = collectingLog();
  const watcher = new Watcher({
    store,
    source: scenarioSource(0.005, 0.005),
    clock: clock.now,
    replica: 'r1',
    log,
    maxAttempts: 3,
    backoffMs: MIN,
    revert: (w, e, _p, ctx) => openRevert(gh, w, e, policy, log, ctx),
    reportFailure: (w, e, f) => reportRevertFailed(gh, w, e, f),
  });
  return { store, clock, watcher, log };
}

describe('a revert that keeps failing', () => {
  it('is retried with a doubling wait, then ends failed and says so on the deployment and the shipping PR', async () => {
    const { store, clock, watcher } = await setup();

    nockRefusedAttempt();
    let r = await watcher.tick();
    assertAllCalled();
    expect(r.retrying).toEqual([DEPLOYMENT_ID]);
    expect(r.errors).toEqual([
      expect.stringMatching(
        /revert attempt 1 of 3 failed, next in 60s: GitHub refused POST .*git\/refs \(403/,
      ),
    ]);

    // Inside the wait nothing is sent (nock would fail an unexpected request).
    clock.advance(MIN - 1);
    r = await watcher.tick();
    expect(r).toMatchObject({ claimed: 1, retrying: [], errors: [] });

    clock.advance(1);
    nockRefusedAttempt();
    r = await watcher.tick();
    assertAllCalled();
    expect(r.errors).toEqual([expect.stringMatching(/attempt 2 of 3 failed, next in 120s/)]);

    clock.advance(2 * MIN - 1);
    expect((await watcher.tick()).errors).toEqual([]);
    clock.advance(1);
    nockRefusedAttempt();
    const sent = nockFailureReport();
    r = await watcher.tick();
    assertAllCalled();
    expect(r.failed).toEqual([DEPLOYMENT_ID]);
    expect(sent.status).toMatchObject({
      state: 'error',
      environment: 'production',
      description: expect.stringMatching(/^budget-gate: revert failed \(3 attempts\): GitHub refused POST/),
    });
    expect(sent.status.description.length).toBeLessThanOrEqual(140);
    expect(sent.comment.body).toContain('budget-gate could not revert this change: revert it by hand');
    expect(sent.comment.body).toContain('Resource not accessible by integration');
    expect(sent.comment.body).toContain(EVIDENCE.message);
    expect(sent.comment.body).toContain('https://runbooks.example.com/agents/fast-burn');
    expect(await store.get(DEPLOYMENT_ID)).toMatchObject({
      status: 'failed',
      revert_attempts: 3,
      reason: expect.stringMatching(/^revert failed after 3 attempt\(s\): GitHub refused/),
      lease_owner: null,
    });
    // Over: later ticks leave it alone.
    clock.advance(60 * MIN);
    expect((await watcher.tick()).claimed).toBe(0);
    await store.close();
  });

  it('a process that died after telling but before recording the end tells nobody twice', async () => {
    const { store, clock, watcher } = await setup();
    // Three attempts were begun by processes that all died mid-way.
    for (let i = 0; i < 3; i++) {
      await store.claim('dead', clock.now(), MIN, 10);
      await store.beginAttempt(DEPLOYMENT_ID, 'dead', clock.now(), MIN);
    }
    await store.retryLater(DEPLOYMENT_ID, 'dead', clock.now(), clock.now(), 'socket hang up');
    clock.advance(2 * MIN);
    const sent = nockFailureReport({ statusThere: true, commentThere: true });
    const r = await watcher.tick();
    assertAllCalled();
    expect(sent).toEqual({});
    expect(r.failed).toEqual([DEPLOYMENT_ID]);
    expect(await store.get(DEPLOYMENT_ID)).toMatchObject({
      status: 'failed',
      reason: 'revert failed after 3 attempt(s): socket hang up',
    });
    await store.close();
  });
});
