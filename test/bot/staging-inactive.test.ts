import nock from 'nock';
import { expect, it } from 'vitest';
import type { BotDeps } from '../../src/bot/deps.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { useNock } from '../support/nock.ts';
import { tempDir } from '../support/tasks.ts';
import {
  API,
  b64,
  DEPLOYED_SHA,
  DEPLOYMENT_ID,
  deliver,
  deploymentStatusPayload,
  nockInstallationToken,
  POLICY_TEXT,
  PREVIOUS_ID,
  PREVIOUS_SHA,
  REPO_PATH,
  scenarioSource,
  T0,
  testClock,
  testProbot,
} from './support.ts';

// Attempt 11 of issue 20: outside `production`, GitHub marks the earlier deployments of an
// environment `inactive` when a new one succeeds (auto_inactive, on by default), before the
// deployment_status webhook reaches the bot. The previous deployment still ran: the watch records
// it, so a revert goes back to it rather than undoing the deployed commit's own diff alone.

useNock();

it('a staging deployment is watched against the previous one, which GitHub made inactive', async () => {
  const store = new SqliteWatchStore(`${tempDir('bg-store-')}/watches.sqlite`);
  const deps: BotDeps = {
    store,
    source: scenarioSource(0.005, 0.005),
    clock: testClock(T0 + 5_000).now,
    policyPath: '.github/error-budget.yml',
  };
  const probot = testProbot(deps);
  const payload = deploymentStatusPayload();
  payload.deployment.environment = 'staging';
  payload.deployment_status.environment = 'staging';

  nockInstallationToken();
  nock(API)
    .persist()
    // The policy, at whichever sha the bot reads it: staging is watched too.
    .get(`${REPO_PATH}/contents/.github%2Ferror-budget.yml`)
    .query(true)
    .reply(200, {
      type: 'file',
      encoding: 'base64',
      content: b64(POLICY_TEXT.replace('environments: [production]', 'environments: [production, staging]')),
      sha: 'p'.repeat(40),
      size: 1,
    })
    .get(`${REPO_PATH}/deployments`)
    .query((q) => q.environment === 'staging')
    .reply(200, [
      { id: DEPLOYMENT_ID, sha: DEPLOYED_SHA, environment: 'staging' },
      { id: PREVIOUS_ID, sha: PREVIOUS_SHA, environment: 'staging' },
    ])
    // Newest first: the inactive GitHub added when DEPLOYMENT_ID succeeded, over the success.
    .get(`${REPO_PATH}/deployments/${PREVIOUS_ID}/statuses`)
    .query({ per_page: 1 })
    .reply(200, [{ state: 'inactive', environment: 'staging' }])
    .get(`${REPO_PATH}/deployments/${PREVIOUS_ID}/statuses`)
    .query({ per_page: 100 })
    .reply(200, [
      { state: 'inactive', environment: 'staging' },
      { state: 'success', environment: 'staging' },
      { state: 'in_progress', environment: 'staging' },
    ])
    .get(`${REPO_PATH}/commits/${DEPLOYED_SHA}/pulls`)
    .query(true)
    .reply(200, []);

  await deliver(probot, 'deployment_status', payload, 'delivery-staging');
  expect(await store.get(DEPLOYMENT_ID)).toMatchObject({
    status: 'watching',
    environment: 'staging',
    sha: DEPLOYED_SHA,
    previous_sha: PREVIOUS_SHA,
    previous_deployment_id: PREVIOUS_ID,
  });
});
