import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAuditLog } from '../../src/policy/overrides/audit-chain.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { auditAnchors } from '../github/helpers.ts';
import { assertAllCalled, setupNock } from '../support/nock.ts';
import {
  API,
  b64,
  deliver,
  example,
  nockInstallationToken,
  POLICY_TEXT,
  REPO_PATH,
  T0,
  testProbot,
} from './support.ts';

// pull_request.labeled: webhooks-examples' labeled pull request (#2 by Codertocat), adapted in the
// label's name (`bug` → `override:slo-wrong`) and, for the other appliers, the sender's login.

beforeEach(setupNock);
afterEach(() => nock.cleanAll());

function labeled(label: string, sender?: string) {
  const p = example('pull_request', (e) => e.action === 'labeled' && !e.organization);
  p.label.name = label;
  if (sender) p.sender.login = sender;
  return p;
}

const ENCODED_LABEL = 'override%3Aslo-wrong';

function bot() {
  return testProbot({
    store: new SqliteWatchStore(':memory:'),
    source: new JsonlSource({ path: '/unused.jsonl' }),
    clock: () => T0,
    policyPath: '.github/error-budget.yml',
  });
}

function nockPolicy(): nock.Scope {
  return nock(API)
    .get(`${REPO_PATH}/contents/.github%2Ferror-budget.yml`)
    .query({ ref: 'master' })
    .reply(200, {
      type: 'file',
      encoding: 'base64',
      content: b64(POLICY_TEXT),
      sha: 'p'.repeat(40),
      size: 1,
    });
}

/** Removal, comment, and the first audit record (the audit branch does not exist yet). */
function nockRefusal() {
  const got: { comment?: any; tree?: any; ref?: any } = {};
  nock(API)
    .delete(`${REPO_PATH}/issues/2/labels/${ENCODED_LABEL}`)
    .reply(200, [])
    .post(`${REPO_PATH}/issues/2/comments`, (b) => {
      got.comment = b;
      return true;
    })
    .reply(201, {})
    .get(`${REPO_PATH}/contents/audit.jsonl`)
    .query({ ref: 'budget-gate/audit' })
    .reply(404, { message: 'Not Found' })
    .post(`${REPO_PATH}/git/trees`, (b) => {
      got.tree = b;
      return true;
    })
    .reply(201, { sha: 't'.repeat(40), tree: [{ path: 'audit.jsonl', sha: 'b'.repeat(40) }] })
    .post(`${REPO_PATH}/git/commits`)
    .reply(201, { sha: 'c'.repeat(40) })
    .post(`${REPO_PATH}/git/refs`, (b) => {
      got.ref = b;
      return true;
    })
    .reply(201, {});
  // Checked against, then anchored in, check runs outside the branch.
  auditAnchors(nock(API), REPO_PATH, []);
  return got;
}

describe('pull_request.labeled override:*', () => {
  it("removes an override the change's own author applied, says who may, and logs the attempt", async () => {
    const probot = bot();
    nockInstallationToken();
    nockPolicy();
    const got = nockRefusal();
    await deliver(probot, 'pull_request', labeled('override:slo-wrong'), 'l1');
    assertAllCalled();
    expect(got.comment.body).toContain(
      'budget-gate removed `override:slo-wrong`: @Codertocat applied `override:slo-wrong` to their own change',
    );
    expect(got.comment.body).toContain(
      'Who may apply an override: @sre-lead, or @Codertocat/sre (never the change',
    );
    expect(got.ref).toEqual({ ref: 'refs/heads/budget-gate/audit', sha: 'c'.repeat(40) });
    const records = parseAuditLog(got.tree.tree[0].content);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      kind: 'override-refused',
      repo: 'Codertocat/Hello-World',
      pull_request: 2,
      label: 'override:slo-wrong',
      reason: 'slo-wrong',
      actor: 'Codertocat',
      author: 'Codertocat',
      at: new Date(T0).toISOString(),
      source: 'bot',
    });
  });

  it('removes an override from someone outside the approvers, after checking their team', async () => {
    const probot = bot();
    nockInstallationToken();
    nockPolicy();
    nock(API).get('/orgs/Codertocat/teams/sre/memberships/random-dev').reply(404, { message: 'Not Found' });
    const got = nockRefusal();
    await deliver(probot, 'pull_request', labeled('override:slo-wrong', 'random-dev'), 'l2');
    assertAllCalled();
    expect(got.comment.body).toContain('@random-dev may not approve overrides');
    expect(parseAuditLog(got.tree.tree[0].content)[0]).toMatchObject({
      actor: 'random-dev',
      author: 'Codertocat',
    });
  });

  it('leaves an approver’s override in place and writes nothing', async () => {
    const probot = bot();
    nockInstallationToken();
    nockPolicy();
    await deliver(probot, 'pull_request', labeled('override:slo-wrong', 'sre-lead'), 'l3');
    assertAllCalled();
  });

  it('ignores labels that are not overrides without a single request', async () => {
    const probot = bot();
    await deliver(probot, 'pull_request', labeled('bug', 'someone'), 'l4');
    expect(nock.pendingMocks()).toEqual([]);
  });
});
