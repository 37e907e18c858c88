import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { collectingLog } from '../../src/bot/log.ts';
import { answerPendingRules, type PendingRule } from '../../src/bot/pending-rules.ts';
import { testOctokit } from '../github/helpers.ts';
import { useNock } from '../support/nock.ts';

// Issue 20, attempt 10: on start, the bot finds deployments waiting on its own protection rule
// (a delivery lost beyond recovery) and judges each. GitHub's side as its REST API answers.

const API = 'https://api.github.test';
const APP_ID = 4242;
const REPO = '/repos/acme/agents';

/** A run's one pending deployment, waiting on environment `name`, as GitHub lists it. */
const pendingOn = (id: number, name: string, currentUserCanApprove: boolean) => [
  {
    environment: { id, name },
    wait_timer: 0,
    wait_timer_started_at: null,
    current_user_can_approve: currentUserCanApprove,
    reviewers: [],
  },
];

useNock();

describe('unanswered protection rules at start', () => {
  it('judges a run waiting on an environment whose custom rules include this app, and only that one', async () => {
    const { gh } = testOctokit();
    nock(API)
      .get('/app')
      .reply(200, { id: APP_ID, slug: 'budget-gate' })
      .get('/app/installations')
      .query(true)
      .reply(200, [{ id: 7 }])
      .get('/installation/repositories')
      .query(true)
      .reply(200, {
        total_count: 1,
        repositories: [{ name: 'agents', owner: { login: 'acme' }, default_branch: 'main' }],
      })
      .get(`${REPO}/actions/runs`)
      .query({ status: 'waiting', per_page: 100 })
      .reply(200, {
        total_count: 2,
        workflow_runs: [
          { id: 11, head_sha: 'a'.repeat(40) },
          { id: 12, head_sha: 'b'.repeat(40) },
        ],
      })
      .get(`${REPO}/actions/runs/11/pending_deployments`)
      .reply(200, pendingOn(1, 'production', false))
      .get(`${REPO}/actions/runs/12/pending_deployments`)
      .reply(200, pendingOn(2, 'staging', true))
      .get(`${REPO}/environments/production/deployment_protection_rules`)
      .reply(200, {
        total_count: 1,
        custom_deployment_protection_rules: [
          { id: 3, enabled: true, app: { id: APP_ID, slug: 'budget-gate' } },
        ],
      })
      // staging waits for a person (or another app), not for this one: left alone.
      .get(`${REPO}/environments/staging/deployment_protection_rules`)
      .reply(200, {
        total_count: 1,
        custom_deployment_protection_rules: [{ id: 4, enabled: true, app: { id: 99 } }],
      })
      .get(`${REPO}/deployments`)
      .query({ sha: 'a'.repeat(40), environment: 'production', per_page: 1 })
      .reply(200, [{ id: 555, sha: 'a'.repeat(40), ref: 'main' }]);
    const judged: PendingRule[] = [];
    const r = await answerPendingRules({
      app: gh,
      auth: async () => gh,
      judge: async (_gh, rule) => {
        judged.push(rule);
      },
      log: collectingLog(),
    });
    expect(nock.pendingMocks()).toEqual([]);
    expect(r).toMatchObject({ repositories: 1, answered: 1, errors: [] });
    expect(judged).toEqual([
      {
        installation: 7,
        payload: {
          action: 'requested',
          environment: 'production',
          event: 'deployment',
          deployment_callback_url: `${API}${REPO}/actions/runs/11/deployment_protection_rule`,
          deployment: { id: 555, sha: 'a'.repeat(40), ref: 'main' },
          repository: { name: 'agents', owner: { login: 'acme' }, default_branch: 'main' },
        },
      },
    ]);
  });
});
