import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { assertAllCalled, useNock } from '../support/nock.ts';
import {
  API,
  b64,
  DEPLOYED_SHA,
  DEPLOYMENT_ID,
  deliver,
  example,
  nockInstallationToken,
  POLICY_TEXT,
  PREVIOUS_ID,
  PREVIOUS_SHA,
  REPO_PATH,
  scenarioSource,
  T0,
  testProbot,
} from './support.ts';

// deployment_protection_rule. @octokit/webhooks-examples has no example of this event, so the
// payload is webhooks-examples' `deployment` event (its deployment, repository, installation and
// sender objects, unchanged) with the fields GitHub's schema adds for this event: action
// `requested`, `environment`, `event` and `deployment_callback_url`.

const CALLBACK = `${REPO_PATH}/actions/runs/4242/deployment_protection_rule`;

function protectionPayload() {
  const d = example('deployment', (e) => !!e.installation && e.deployment.environment === 'production');
  return {
    action: 'requested',
    environment: 'production',
    event: 'push',
    deployment_callback_url: `${API}${CALLBACK}`,
    deployment: d.deployment,
    pull_requests: [],
    repository: d.repository,
    installation: d.installation,
    sender: d.sender,
  };
}

useNock();

/** What production runs now (PREVIOUS_SHA) → the deployed sha, and the policy in force at PREVIOUS_SHA. */
function nockDeployDiff(policyText = POLICY_TEXT): nock.Scope {
  return nock(API)
    .get(`${REPO_PATH}/contents/.github%2Ferror-budget.yml`)
    .query({ ref: PREVIOUS_SHA })
    .reply(200, { type: 'file', encoding: 'base64', content: b64(policyText), sha: 'p'.repeat(40), size: 1 })
    .get(`${REPO_PATH}/deployments`)
    .query({ environment: 'production', per_page: 10 })
    .reply(200, [
      { id: DEPLOYMENT_ID, sha: DEPLOYED_SHA },
      { id: PREVIOUS_ID, sha: PREVIOUS_SHA },
    ])
    .get(`${REPO_PATH}/deployments/${PREVIOUS_ID}/statuses`)
    .query({ per_page: 1 })
    .reply(200, [{ state: 'success' }])
    .get(`${REPO_PATH}/compare/${PREVIOUS_SHA}...${DEPLOYED_SHA}`)
    .reply(200, {
      status: 'ahead',
      total_commits: 1,
      commits: [
        {
          sha: DEPLOYED_SHA,
          commit: { message: 'Rewrite the refund prompt' },
          author: { login: 'dev' },
          parents: [{ sha: PREVIOUS_SHA }],
        },
      ],
      files: [{ filename: 'prompts/refund.md', status: 'modified' }],
    });
}

async function run(failRate: number) {
  const source = scenarioSource(failRate, failRate);
  const probot = testProbot({
    store: new SqliteWatchStore(':memory:'),
    source,
    clock: () => T0,
    policyPath: '.github/error-budget.yml',
  });
  let answer: any = null;
  nockInstallationToken();
  nockDeployDiff();
  return {
    probot,
    answered: () => answer,
    callback: () =>
      nock(API)
        .post(CALLBACK, (body) => {
          answer = body;
          return true;
        })
        .reply(204),
  };
}

describe('deployment_protection_rule', () => {
  it('approves a deployment the gate lets through, with the decision in the comment', async () => {
    // 0.2% failing against a 1% budget: 20% consumed, burning slower than the window allows.
    const t = await run(0.002);
    t.callback();
    await deliver(t.probot, 'deployment_protection_rule', protectionPayload(), 'p1');
    assertAllCalled();
    expect(t.answered()).toMatchObject({ environment_name: 'production', state: 'approved' });
    expect(t.answered().comment).toMatch(/^budget-gate: SHIP/);
  });

  it('rejects under HARD-PAUSE with the reasons, after looking for an override on the shipped pull request', async () => {
    // 2% failing against a 1% budget: the budget is gone twice over.
    const t = await run(0.02);
    nock(API)
      .get(`${REPO_PATH}/commits/${DEPLOYED_SHA}/pulls`)
      .query({ per_page: 10 })
      .reply(200, [
        {
          number: 42,
          title: 'Rewrite the refund prompt',
          user: { login: 'dev' },
          labels: [{ name: 'prompts' }],
          head: {
            ref: 'refund',
            sha: DEPLOYED_SHA,
            repo: { name: 'Hello-World', owner: { login: 'Codertocat' } },
          },
          merged_at: '2026-03-02T11:00:00Z',
        },
      ]);
    t.callback();
    await deliver(t.probot, 'deployment_protection_rule', protectionPayload(), 'p2');
    assertAllCalled();
    expect(t.answered()).toMatchObject({ environment_name: 'production', state: 'rejected' });
    expect(t.answered().comment).toMatch(/^budget-gate: HARD-PAUSE/);
    expect(t.answered().comment).toMatch(/tasks-success/);
  });

  it('rejects when the policy in force cannot be read, naming the file, line and key', async () => {
    const probot = testProbot({
      store: new SqliteWatchStore(':memory:'),
      source: new JsonlSource({ path: '/nonexistent.jsonl' }),
      clock: () => T0,
      policyPath: '.github/error-budget.yml',
    });
    let answer: any = null;
    nockInstallationToken();
    nockDeployDiff(POLICY_TEXT.replace('target: 99%', 'target: 100%'))
      .post(CALLBACK, (body) => {
        answer = body;
        return true;
      })
      .reply(204);
    await deliver(probot, 'deployment_protection_rule', protectionPayload(), 'p3');
    assertAllCalled();
    expect(answer.state).toBe('rejected');
    expect(answer.comment).toMatch(
      /\.github\/error-budget\.yml:\d+:\d+ slos\[0\]\.target: a target of 100% leaves no error budget/,
    );
  });
});

describe('deployment_protection_rule is always answered (issue 20, attempt 10)', () => {
  it('rejects with the reason when the evaluation fails, instead of leaving the deployment waiting', async () => {
    const t = await run(0.002);
    nock.cleanAll();
    nockInstallationToken();
    // The deployment history cannot be read: nothing can be judged, so the answer is no, with why.
    nock(API).get(`${REPO_PATH}/deployments`).query(true).reply(403, {
      message: 'Resource not accessible by integration',
      documentation_url: 'https://docs.github.com/rest',
    });
    t.callback();
    await deliver(t.probot, 'deployment_protection_rule', protectionPayload(), 'p4');
    assertAllCalled();
    expect(t.answered()).toMatchObject({ environment_name: 'production', state: 'rejected' });
    expect(t.answered().comment).toMatch(
      /^budget-gate could not evaluate this deployment, so it is not approved: /,
    );
    expect(t.answered().comment).toMatch(/deployments: read/);
  });

  it('a redelivery GitHub no longer takes an answer for (already answered) completes, so it is not asked for forever', async () => {
    const t = await run(0.002);
    nock(API)
      .post(CALLBACK)
      .reply(422, { message: 'Unprocessable Entity', documentation_url: 'https://docs.github.com/rest' });
    await deliver(t.probot, 'deployment_protection_rule', protectionPayload(), 'p5');
    assertAllCalled();
  });

  it('a callback GitHub fails on (5xx) fails the delivery, so recovery asks for it again', async () => {
    const t = await run(0.002);
    nock(API).post(CALLBACK).reply(502, { message: 'Bad Gateway' });
    await expect(
      deliver(t.probot, 'deployment_protection_rule', protectionPayload(), 'p6'),
    ).rejects.toThrow();
  });
});
