import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { assertAllCalled, useNock } from '../support/nock.ts';
import {
  API,
  b64,
  DEPLOYED_SHA,
  DEPLOYMENT_ID,
  deliver,
  deploymentStatusPayload,
  nockInstallationToken,
  nockWatchStart,
  POLICY_TEXT,
  REPO_PATH,
  scenarioSource,
  T0,
  testProbot,
} from './support.ts';

// Issue 20, attempt 2, the watcher's half: a deployment is watched under the policy of what the
// environment ran before it, unless its own copy is provably at least as strict. A deploy that
// turns auto-revert off, or deletes the policy, is still watched (and so still reverted).

useNock();

async function start() {
  const store = new SqliteWatchStore(':memory:');
  const probot = testProbot({
    store,
    source: scenarioSource(0.005, 0.005),
    clock: () => T0 + 5_000,
    policyPath: '.github/error-budget.yml',
  });
  nockInstallationToken();
  return { store, probot };
}

/** The watch a deployment whose own copy of the policy is `policy` starts, production running POLICY_TEXT. */
async function watchedWith(policy: string | null, delivery: string) {
  const { store, probot } = await start();
  nockWatchStart({ policy, inForce: POLICY_TEXT });
  await deliver(probot, 'deployment_status', deploymentStatusPayload(), delivery);
  assertAllCalled();
  return store.get(DEPLOYMENT_ID);
}

describe('the policy a deployment is watched under', () => {
  it('a deploy that sets auto_revert.enabled: false is watched under the policy production ran', async () => {
    const off = POLICY_TEXT.replace('auto_revert:\n', 'auto_revert:\n  enabled: false\n');
    expect(off).not.toBe(POLICY_TEXT);
    expect(await watchedWith(off, 'w1')).toMatchObject({ status: 'watching', policy_text: POLICY_TEXT });
  });

  it('a deploy that deletes the policy is watched under the policy production ran', async () => {
    expect(await watchedWith(null, 'w2')).toMatchObject({ status: 'watching', policy_text: POLICY_TEXT });
  });

  it('a deploy that only tightens the policy is watched under its own, stricter copy', async () => {
    const stricter = POLICY_TEXT.replace('  consumed: 0.2\n', '  consumed: 0.1\n');
    expect(stricter).not.toBe(POLICY_TEXT);
    expect(await watchedWith(stricter, 'w3')).toMatchObject({ status: 'watching', policy_text: stricter });
  });

  it("an environment's first deploy is watched under the deployed commit's parent's policy", async () => {
    const { store, probot } = await start();
    const parent = 'c'.repeat(40);
    const off = POLICY_TEXT.replace('auto_revert:\n', 'auto_revert:\n  enabled: false\n');
    const file = (text: string) => ({
      type: 'file',
      encoding: 'base64',
      content: b64(text),
      sha: 'p',
      size: 1,
    });
    nock(API)
      .get(`${REPO_PATH}/deployments`)
      .query({ environment: 'production', per_page: 10 })
      .reply(200, [{ id: DEPLOYMENT_ID, sha: DEPLOYED_SHA }])
      .get(`${REPO_PATH}/git/commits/${DEPLOYED_SHA}`)
      .reply(200, { sha: DEPLOYED_SHA, parents: [{ sha: parent, url: '', html_url: '' }] })
      .get(`${REPO_PATH}/contents/.github%2Ferror-budget.yml`)
      .query({ ref: parent })
      .reply(200, file(POLICY_TEXT))
      .get(`${REPO_PATH}/contents/.github%2Ferror-budget.yml`)
      .query({ ref: DEPLOYED_SHA })
      .reply(200, file(off))
      .get(`${REPO_PATH}/commits/${DEPLOYED_SHA}/pulls`)
      .query(true)
      .reply(200, []);
    await deliver(probot, 'deployment_status', deploymentStatusPayload(), 'w4');
    assertAllCalled();
    expect(await store.get(DEPLOYMENT_ID)).toMatchObject({
      status: 'watching',
      previous_sha: null,
      policy_text: POLICY_TEXT,
    });
  });
});
