import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { parseAuditLog } from '../../src/policy/overrides/audit-chain.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { auditAnchors } from '../github/helpers.ts';
import { assertAllCalled, useNock } from '../support/nock.ts';
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

useNock();

function labeled(label: string, sender?: string) {
  const p = example('pull_request', (e) => e.action === 'labeled' && !e.organization);
  p.label.name = label;
  if (sender) p.sender.login = sender;
  return p;
}

const ENCODED_LABEL = 'override%3Aslo-wrong';

function bot(store = new SqliteWatchStore(':memory:')) {
  return testProbot({
    store,
    source: new JsonlSource({ path: '/unused.jsonl' }),
    clock: () => T0,
    policyPath: '.github/error-budget.yml',
  });
}

const BASE_SHA = 'ba5e'.padEnd(40, '0');
const HEAD_SHA = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';

/**
 * The pull request as GitHub shows it now (its labels), and who applied the override label last
 * (its issue events): what the handler acts on, rather than the delivery's snapshot.
 */
function nockCurrent(o: { labels: string[]; appliedBy?: string; at?: number }): nock.Scope {
  const scope = nock(API)
    .get(`${REPO_PATH}/pulls/2`)
    .reply(200, {
      number: 2,
      state: 'open',
      title: 'Update the README with new information.',
      user: { login: 'Codertocat', type: 'User' },
      labels: o.labels.map((name, i) => ({ id: 100 + i, name, color: 'f00' })),
      head: { ref: 'changes', sha: HEAD_SHA },
      base: { ref: 'master', sha: BASE_SHA },
    });
  if (o.appliedBy === undefined) return scope;
  return scope
    .get(`${REPO_PATH}/issues/2/events`)
    .query(true)
    .reply(200, [
      {
        id: 7,
        event: 'labeled',
        actor: { login: o.appliedBy },
        label: { name: 'override:slo-wrong', color: 'f00' },
        created_at: new Date(o.at ?? T0 - 60_000).toISOString(),
      },
    ]);
}

function nockPolicy(): nock.Scope {
  return nock(API)
    .get(`${REPO_PATH}/contents/.github%2Ferror-budget.yml`)
    .query({ ref: BASE_SHA })
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
    nockCurrent({ labels: ['override:slo-wrong'], appliedBy: 'Codertocat' });
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
    nockCurrent({ labels: ['override:slo-wrong'], appliedBy: 'random-dev' });
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
    nockCurrent({ labels: ['override:slo-wrong'], appliedBy: 'sre-lead' });
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

describe('replayed and late deliveries (issue 20, attempt 8)', () => {
  it('a refused delivery sent again (same id) finds the label gone: no second removal, comment or record', async () => {
    const store = new SqliteWatchStore(':memory:');
    const probot = bot(store);
    nockInstallationToken();
    nockCurrent({ labels: ['override:slo-wrong'], appliedBy: 'Codertocat' });
    nockPolicy();
    nockRefusal();
    await deliver(probot, 'pull_request', labeled('override:slo-wrong'), 'same-id');
    assertAllCalled();
    expect(await store.handledDeliveries(0)).toEqual(new Set(['same-id']));
    // The replay: correctly signed, same delivery id. A recorded id does not stop it (GitHub's own
    // redeliveries keep the id); the pull request as it is now does — one read, nothing written.
    nockCurrent({ labels: [] });
    await deliver(probot, 'pull_request', labeled('override:slo-wrong'), 'same-id');
    assertAllCalled();
  });

  it('a replay of an old refused delivery does not remove the label an approver has since applied', async () => {
    const probot = bot();
    nockInstallationToken();
    // mallory's label was refused and removed long ago; sre-lead applied it since.
    nockCurrent({ labels: ['override:slo-wrong'], appliedBy: 'sre-lead' });
    nockPolicy();
    await deliver(probot, 'pull_request', labeled('override:slo-wrong', 'mallory'), 'old');
    // No DELETE, no comment, no audit record: nothing but the reads above was asked of GitHub.
    assertAllCalled();
  });

  it('two deliveries racing: only the one whose removal GitHub took posts the comment', async () => {
    const probot = bot();
    nockInstallationToken();
    nockCurrent({ labels: ['override:slo-wrong'], appliedBy: 'Codertocat' });
    nockPolicy();
    // The other delivery removed the label between this one's read and its removal.
    nock(API)
      .get(`${REPO_PATH}/contents/audit.jsonl`)
      .query({ ref: 'budget-gate/audit' })
      .reply(404, { message: 'Not Found' })
      .post(`${REPO_PATH}/git/trees`)
      .reply(201, { sha: 't'.repeat(40), tree: [{ path: 'audit.jsonl', sha: 'b'.repeat(40) }] })
      .post(`${REPO_PATH}/git/commits`)
      .reply(201, { sha: 'c'.repeat(40) })
      .post(`${REPO_PATH}/git/refs`)
      .reply(201, {})
      .delete(`${REPO_PATH}/issues/2/labels/${ENCODED_LABEL}`)
      .reply(404, { message: 'Label does not exist', documentation_url: 'https://docs.github.com/rest' });
    auditAnchors(nock(API), REPO_PATH, []);
    await deliver(probot, 'pull_request', labeled('override:slo-wrong'), 'racing');
    // No comment was posted: an unexpected POST /comments would have failed the delivery.
    assertAllCalled();
  });

  it('a delivery whose handler fails is not recorded as handled, so recovery asks for it again', async () => {
    const store = new SqliteWatchStore(':memory:');
    const probot = bot(store);
    nockInstallationToken();
    nock(API).get(`${REPO_PATH}/pulls/2`).reply(500, { message: 'Server Error' });
    await expect(deliver(probot, 'pull_request', labeled('override:slo-wrong'), 'failed')).rejects.toThrow();
    expect(await store.handledDeliveries(0)).toEqual(new Set());
  });
});
