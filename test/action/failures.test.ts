import { describe, expect, it } from 'vitest';
import { auditSection } from '../../src/action/summary.ts';
import { chainRecord, serializeRecord } from '../../src/policy/overrides/audit-chain.ts';
import { api, auditAnchors, b64 } from '../github/helpers.ts';
import { useNock } from '../support/nock.ts';
import {
  AT,
  changedFiles as files,
  GH_REPO,
  gate,
  HOUR,
  labeled,
  nockAuthorship,
  nockHeadCommitOnly,
  opened,
  withLabel,
} from './support.ts';

// What the gate does when GitHub says no, or says less than usual: missing permissions, re-runs,
// long pull requests, a manual dispatch with no deployment history.

/** The override on PR #2 verified: applied by an approver after the last push. */
function verifiedOverride(label: string) {
  nockAuthorship(2, 'Codertocat', AT - 2 * HOUR);
  return api()
    .get(`${GH_REPO}/pulls/2/files`)
    .query(true)
    .reply(200, files('prompts/refund.md'))
    .get(`${GH_REPO}/issues/2/events`)
    .query(true)
    .reply(200, labeled(label, 'sre-lead', AT - HOUR));
}

useNock('all-called');

describe('the gate when GitHub refuses or repeats', () => {
  it('a token without checks: write keeps the decision and says which permission is missing', async () => {
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md'))
      .post(`${GH_REPO}/check-runs`)
      .reply(403, { message: 'Resource not accessible by integration' });
    const r = await gate('pull_request', opened());
    expect(r.decision).toMatchObject({ state: 'soft-pause', allowed: false });
    expect(r.failed).toBe(true);
    expect(r.check).toBeNull();
    expect(r.logs.join('\n')).toMatch(/warning: .*the token needs `checks: write`.*check run is missing/s);
  });

  it('an override the audit log cannot record is not honoured, and the block names contents: write', async () => {
    const scope = verifiedOverride('override:slo-wrong')
      .get(`${GH_REPO}/contents/audit.jsonl`)
      .query(true)
      .reply(200, { type: 'file', sha: 's1', size: 0, content: '' });
    auditAnchors(scope, GH_REPO, [], undefined, { anchorsNewHead: false })
      .put(`${GH_REPO}/contents/audit.jsonl`)
      .reply(403, { message: 'Resource not accessible by integration' })
      .post(`${GH_REPO}/check-runs`, (b) => b.conclusion === 'failure')
      .reply(201, { id: 1 });
    const r = await gate('pull_request', withLabel('override:slo-wrong'));
    expect(r.decision).toMatchObject({ allowed: false, override: null });
    expect(r.decision.reasons.at(-1)).toMatchObject({ code: 'override-unrecorded' });
    expect(r.decision.reasons.at(-1)!.message).toContain('the token needs `contents: write`');
    expect(r.decision.actions[0]).toContain('permissions: contents: write');
    expect(r.audit).toBeNull();
  });

  it('a re-run finds its own record: allowed, nothing written, the summary says so', async () => {
    const earlier = chainRecord(null, {
      kind: 'override-applied',
      repo: 'Codertocat/Hello-World',
      pull_request: 2,
      sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
      label: 'override:regulatory',
      reason: 'regulatory',
      actor: 'sre-lead',
      author: 'Codertocat',
      at: new Date(AT - 600_000).toISOString(),
      state: 'soft-pause',
      message: 'first run',
      source: 'action',
    });
    const scope = verifiedOverride('override:regulatory')
      .get(`${GH_REPO}/contents/audit.jsonl`)
      .query(true)
      .reply(200, { type: 'file', sha: 's1', size: 1, content: b64(serializeRecord(earlier)) });
    // The earlier run anchored its record: nothing to write, nothing to anchor.
    auditAnchors(scope, GH_REPO, [earlier], undefined, { anchorsNewHead: false })
      .post(`${GH_REPO}/check-runs`, (b) => b.conclusion === 'success')
      .reply(201, { id: 2 });
    const r = await gate('pull_request', withLabel('override:regulatory'));
    expect(r.decision.allowed).toBe(true);
    expect(r.audit).toMatchObject({ duplicate: true, record: { seq: 1, message: 'first run' } });
    expect(auditSection(r.audit, r.auditBranch, r.auditPath)).toContain(
      'already recorded as #1 in `audit.jsonl` on branch `budget-gate/audit` (a re-run)',
    );
    // the policy at the base, files, label events, commits, last push, the log, its anchors, the check run
    expect(r.requests).toBe(8);
  });

  it('reads a long pull request page by page (4 requests for 150 files, the base policy included)', async () => {
    const many = Array.from({ length: 150 }, (_, i) => `src/ui/c${i}.tsx`);
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query({ per_page: 100, page: 1 })
      .reply(200, files(...many.slice(0, 100)), {
        link: `<https://api.github.test${GH_REPO}/pulls/2/files?per_page=100&page=2>; rel="next"`,
      })
      .get(`${GH_REPO}/pulls/2/files`)
      .query({ per_page: 100, page: 2 })
      .reply(200, files(...many.slice(100), 'models/router.yml'))
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 3 });
    const r = await gate('pull_request', opened());
    expect(r.decision).toMatchObject({ allowed: false, risk: 'high' });
    expect(r.decision.risk_files).toEqual(
      expect.arrayContaining([{ path: 'models/router.yml', class: 'high', rule: 'risk.rules[0]' }]),
    );
    expect(r.requests).toBe(4);
  });

  it('workflow_dispatch with no deployment history judges the dispatched commit alone', async () => {
    const sha = 'f'.repeat(40);
    nockHeadCommitOnly(sha, {
      message: 'Tweak the banner',
      parent: 'e'.repeat(40),
      files: ['src/ui/banner.tsx'],
    })
      .post(`${GH_REPO}/check-runs`, (b) => b.head_sha === sha)
      .reply(201, { id: 4 });
    const r = await gate('workflow_dispatch', { inputs: {} });
    expect(r.decision).toMatchObject({ allowed: true, risk: 'low' });
    expect(r.decision.warnings).toEqual(
      expect.arrayContaining([
        'no successful deployment to production found',
        `no base to compare with: judging the head commit ${sha.slice(0, 7)} alone`,
      ]),
    );
  });
});
