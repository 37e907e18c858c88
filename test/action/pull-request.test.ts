import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAuditLog, verifyChain } from '../../src/policy/overrides/audit-chain.ts';
import { DEMO_POLICY } from '../../src/scenarios/demo.ts';
import { api, auditAnchors, b64, unb64 } from '../github/helpers.ts';
import { useNock } from '../support/nock.ts';
import {
  AT,
  contentsReply,
  changedFiles as files,
  GH_REPO,
  gate,
  HOUR,
  hardPause,
  labeled,
  nockAuthorship,
  opened,
  POLICY_PATH,
  pullCommits,
  withLabel,
  workspace,
} from './support.ts';

// The gate on pull requests, with GitHub played by nock on the exact REST endpoints and the
// events taken from @octokit/webhooks-examples. Adapted fields: the PR's labels (and `label`).

useNock('all-called');

describe('the gate on a pull request', () => {
  it('blocks a prompt change under SOFT-PAUSE with a failing check run that explains itself, in 3 requests', async () => {
    let check: { output: { summary: string } } | undefined;
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query({ per_page: 100, page: 1 })
      .reply(200, files('prompts/refund.md', 'src/agent/tools.ts'))
      .post(`${GH_REPO}/check-runs`, (b) => {
        check = b;
        return true;
      })
      .reply(201, { id: 7, html_url: 'https://github.test/checks/7' });
    const r = await gate('pull_request', opened());
    expect(r.decision).toMatchObject({ state: 'soft-pause', allowed: false, risk: 'high' });
    expect(r.failed).toBe(true);
    expect(check).toMatchObject({
      name: 'budget-gate',
      head_sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
      status: 'completed',
      conclusion: 'failure',
      output: {
        title:
          'SOFT-PAUSE — prompts/refund.md is high risk — tasks-success-paid 62% consumed at 2.1x pace — blocked',
      },
    });
    expect(check!.output.summary).toContain('split the change: the 1 low-risk file can ship now');
    expect(check!.output.summary).toContain('```mermaid');
    expect(r.requests).toBe(3);
  });

  it('lets a low-risk change through the same SOFT-PAUSE', async () => {
    let conclusion = '';
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('src/ui/banner.tsx'))
      .post(`${GH_REPO}/check-runs`, (b) => {
        conclusion = b.conclusion;
        return true;
      })
      .reply(201, { id: 8 });
    const r = await gate('pull_request', opened());
    expect(r.decision).toMatchObject({ state: 'soft-pause', allowed: true, risk: 'low' });
    expect(conclusion).toBe('success');
  });

  it('report mode reports a block as neutral and does not fail the step', async () => {
    let conclusion = '';
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('models/router.yml'))
      .post(`${GH_REPO}/check-runs`, (b) => {
        conclusion = b.conclusion;
        return true;
      })
      .reply(201, { id: 9 });
    const r = await gate('pull_request', opened(), { inputs: { mode: 'report' } });
    expect(r.decision.allowed).toBe(false);
    expect(r.failed).toBe(false);
    expect(conclusion).toBe('neutral');
  });

  it('honours an approver’s override and writes the exception to a new audit branch', async () => {
    const sent: {
      tree?: { tree: { content: string }[] };
      commit?: { parents: string[] };
      ref?: unknown;
      check?: { conclusion: string };
    } = {};
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md'))
      .get(`${GH_REPO}/issues/2/events`)
      .query(true)
      .reply(200, labeled('override:catastrophic-event', 'sre-lead', AT - HOUR))
      .get(`${GH_REPO}/pulls/2/commits`)
      .query(true)
      .reply(200, pullCommits('Codertocat'))
      .get(`${GH_REPO}/activity`)
      .query({ ref: 'refs/heads/changes', direction: 'desc', per_page: 20 })
      .reply(200, [{ activity_type: 'push', timestamp: new Date(AT - 2 * HOUR).toISOString() }])
      .get(`${GH_REPO}/contents/audit.jsonl`)
      .query({ ref: 'budget-gate/audit' })
      .reply(404, { message: 'Not Found' })
      .post(`${GH_REPO}/git/trees`, (b) => {
        sent.tree = b;
        return true;
      })
      .reply(201, { sha: 'tree1', tree: [{ path: 'audit.jsonl', sha: 'blob1' }] })
      .post(`${GH_REPO}/git/commits`, (b) => {
        sent.commit = b;
        return true;
      })
      .reply(201, { sha: 'commit1' })
      .post(`${GH_REPO}/git/refs`, (b) => {
        sent.ref = b;
        return true;
      })
      .reply(201, { ref: 'refs/heads/budget-gate/audit' });
    // The new head is anchored in a check run outside the branch, after the append.
    auditAnchors(api(), GH_REPO, []);
    api()
      .post(`${GH_REPO}/check-runs`, (b) => {
        sent.check = b;
        return true;
      })
      .reply(201, { id: 10 });
    const r = await gate('pull_request', withLabel('override:catastrophic-event'));
    expect(r.decision.allowed).toBe(true);
    expect(r.decision.override).toMatchObject({ reason: 'catastrophic-event', applied_by: 'sre-lead' });
    expect(sent.check?.conclusion).toBe('success');
    expect(sent.ref).toEqual({ ref: 'refs/heads/budget-gate/audit', sha: 'commit1' });
    expect(sent.commit?.parents).toEqual([]);
    const text = sent.tree!.tree[0]!.content;
    expect(verifyChain(text)).toMatchObject({ ok: true, count: 1 });
    expect(parseAuditLog(text)[0]).toMatchObject({
      seq: 1,
      kind: 'override-applied',
      repo: 'Codertocat/Hello-World',
      pull_request: 2,
      label: 'override:catastrophic-event',
      actor: 'sre-lead',
      author: 'Codertocat',
      state: 'soft-pause',
      source: 'action',
    });
    expect(r.audit?.created_branch).toBe(true);
  });

  it('appends after a record written concurrently: 409 on a stale sha, re-read, chain on', async () => {
    const first = (await import('../../src/policy/overrides/audit-chain.ts')).chainRecord(null, {
      kind: 'override-applied',
      repo: 'Codertocat/Hello-World',
      pull_request: 1,
      sha: 'b'.repeat(40),
      label: 'override:slo-wrong',
      reason: 'slo-wrong',
      actor: 'sre-lead',
      author: 'dev',
      at: new Date(AT - 5 * HOUR).toISOString(),
      state: 'soft-pause',
      message: 'earlier',
      source: 'action',
    });
    const { chainRecord, serializeRecord } = await import('../../src/policy/overrides/audit-chain.ts');
    const second = chainRecord(first, {
      ...first,
      seq: undefined,
      prev_hash: undefined,
      hash: undefined,
      pull_request: 3,
      message: 'concurrent',
    } as never);
    const puts: { sha: string; branch: string; content: string }[] = [];
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md'))
      .get(`${GH_REPO}/issues/2/events`)
      .query(true)
      .reply(200, labeled('override:slo-wrong', 'sre-lead', AT - HOUR));
    nockAuthorship(2, 'Codertocat', AT - 2 * HOUR);
    api()
      .get(`${GH_REPO}/contents/audit.jsonl`)
      .query({ ref: 'budget-gate/audit' })
      .reply(200, { type: 'file', sha: 'sha-A', size: 10, content: b64(serializeRecord(first)) })
      .put(`${GH_REPO}/contents/audit.jsonl`, (b) => {
        // nock may ask this matcher about other requests too: record only the Contents PUTs.
        if (typeof b?.content === 'string' && !puts.includes(b)) puts.push(b);
        return true;
      })
      .reply(409, { message: 'audit.jsonl does not match sha-A' })
      .get(`${GH_REPO}/contents/audit.jsonl`)
      .query({ ref: 'budget-gate/audit' })
      .reply(200, {
        type: 'file',
        sha: 'sha-B',
        size: 10,
        content: b64(serializeRecord(first) + serializeRecord(second)),
      })
      .put(`${GH_REPO}/contents/audit.jsonl`, (b) => {
        // nock may ask this matcher about other requests too: record only the Contents PUTs.
        if (typeof b?.content === 'string' && !puts.includes(b)) puts.push(b);
        return true;
      })
      .reply(200, { content: { sha: 'sha-C' }, commit: { sha: 'commit-C' } });
    // Each attempt reads the anchors: the concurrent run anchored its record between the two.
    auditAnchors(api(), GH_REPO, [first], undefined, { anchorsNewHead: false });
    auditAnchors(api(), GH_REPO, [first, second]);
    api().post(`${GH_REPO}/check-runs`).reply(201, { id: 11 });
    const r = await gate('pull_request', withLabel('override:slo-wrong'));
    expect(r.decision.allowed).toBe(true);
    expect(puts.map((p) => p.sha)).toEqual(['sha-A', 'sha-B']);
    expect(puts[1]?.branch).toBe('budget-gate/audit');
    const text = unb64(puts[1]!.content);
    expect(verifyChain(text)).toMatchObject({ ok: true, count: 3 });
    expect(parseAuditLog(text).map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(r.audit).toMatchObject({ attempts: 2, commit_sha: 'commit-C' });
    // files, label history, commits, last push, read + anchors + write, the conflict's re-read +
    // anchors + write, the new anchor, the check run (and the policy at the base)
    expect(r.requests).toBe(13);
  });

  it.each([
    ['the author’s own override', 'Codertocat', AT - HOUR, 'self-approval'],
    ['an override applied before the last push', 'sre-lead', AT - 3 * HOUR, 'before-last-push'],
  ])('refuses %s and keeps the block', async (_what, actor, appliedAt, code) => {
    let conclusion = '';
    const scope = api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md'))
      .get(`${GH_REPO}/issues/2/events`)
      .query(true)
      .reply(200, labeled('override:slo-wrong', actor, appliedAt));
    // Who wrote it and when it was pushed are read only for a label someone besides the opener applied.
    if (actor !== 'Codertocat') nockAuthorship(2, 'Codertocat', AT - 2 * HOUR);
    scope
      .post(`${GH_REPO}/check-runs`, (b) => {
        conclusion = b.conclusion;
        return true;
      })
      .reply(201, { id: 12 });
    const r = await gate('pull_request', withLabel('override:slo-wrong'));
    expect(r.decision.allowed).toBe(false);
    expect(r.decision.override_refusals).toEqual([
      expect.objectContaining({ code, label: 'override:slo-wrong' }),
    ]);
    expect(conclusion).toBe('failure');
    expect(r.audit).toBeNull();
  });

  it('refuses an override from someone who is neither a listed user nor in a listed team', async () => {
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md'))
      .get(`${GH_REPO}/issues/2/events`)
      .query(true)
      .reply(200, labeled('override:slo-wrong', 'mallory', AT - HOUR))
      .get('/orgs/acme/teams/sre/memberships/mallory')
      .reply(404, { message: 'Not Found' });
    nockAuthorship(2, 'Codertocat', AT - 2 * HOUR);
    api().post(`${GH_REPO}/check-runs`).reply(201, { id: 13 });
    const r = await gate('pull_request', withLabel('override:slo-wrong'));
    expect(r.decision.allowed).toBe(false);
    expect(r.decision.override_refusals[0]).toMatchObject({ code: 'not-an-approver', applied_by: 'mallory' });
    expect(r.decision.override_refusals[0]!.message).toContain('@sre-lead');
  });

  // Attempt 6 of issue 20: GitHub lists at most 250 commits of a pull request; past that, who
  // wrote the change cannot be read in full.
  it('refuses an override when the pull request’s commit list is cut at 250', async () => {
    const page = (n: number, p: number) =>
      pullCommits(...Array.from({ length: n }, () => 'Codertocat')).map((c, i) => ({
        ...c,
        sha: (p * 100 + i).toString(16).padStart(40, '0'),
      }));
    const link = (p: number) => ({
      link: `<https://api.github.test${GH_REPO}/pulls/2/commits?per_page=100&page=${p}>; rel="next"`,
    });
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md'))
      .get(`${GH_REPO}/issues/2/events`)
      .query(true)
      .reply(200, labeled('override:slo-wrong', 'sre-lead', AT - HOUR))
      .get(`${GH_REPO}/pulls/2/commits`)
      .query({ per_page: 100 })
      .reply(200, page(100, 0), link(2))
      .get(`${GH_REPO}/pulls/2/commits`)
      .query({ per_page: 100, page: 2 })
      .reply(200, page(100, 1), link(3))
      .get(`${GH_REPO}/pulls/2/commits`)
      .query({ per_page: 100, page: 3 })
      .reply(200, page(50, 2))
      .get(`${GH_REPO}/activity`)
      .query(true)
      .reply(200, [{ activity_type: 'push', timestamp: new Date(AT - 2 * HOUR).toISOString() }])
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 15 });
    const r = await gate('pull_request', withLabel('override:slo-wrong'));
    expect(r.decision.allowed).toBe(false);
    expect(r.decision.override_refusals[0]).toMatchObject({ code: 'unknown-authors' });
    expect(r.decision.override_refusals[0]!.message).toContain('GitHub lists at most 250 commits');
  });

  // Attempt 7 of issue 20: the committer date is the pusher's to write; it never stands in.
  it('refuses an override when the activity API cannot be read, and says what would fix it', async () => {
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md'))
      .get(`${GH_REPO}/issues/2/events`)
      .query(true)
      .reply(200, labeled('override:slo-wrong', 'sre-lead', AT - HOUR))
      .get(`${GH_REPO}/pulls/2/commits`)
      .query(true)
      .reply(200, pullCommits('Codertocat'))
      .get(`${GH_REPO}/activity`)
      .query(true)
      .reply(403, {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest/repos/repos#list-repository-activities',
        status: '403',
      })
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 16 });
    const r = await gate('pull_request', withLabel('override:slo-wrong'));
    expect(r.decision.allowed).toBe(false);
    expect(r.decision.override_refusals[0]).toMatchObject({ code: 'unknown-push-time' });
    expect(r.decision.override_refusals[0]!.message).toMatch(
      /activity\?ref=refs\/heads\/changes answered 403: give the token `contents: read` on Codertocat\/Hello-World/,
    );
  });

  // Attempt 12 of issue 20: anchors the workflow token writes belong to the github-actions app.
  it('warns in the job log when it anchors the audit record as the github-actions app', async () => {
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md'))
      .get(`${GH_REPO}/issues/2/events`)
      .query(true)
      .reply(200, labeled('override:catastrophic-event', 'sre-lead', AT - HOUR));
    nockAuthorship(2, 'Codertocat', AT - 2 * HOUR);
    api()
      .get(`${GH_REPO}/contents/audit.jsonl`)
      .query(true)
      .reply(404, { message: 'Not Found' })
      .post(`${GH_REPO}/git/trees`)
      .reply(201, { sha: 'tree1', tree: [{ path: 'audit.jsonl', sha: 'blob1' }] })
      .post(`${GH_REPO}/git/commits`)
      .reply(201, { sha: 'commit1' })
      .post(`${GH_REPO}/git/refs`)
      .reply(201, { ref: 'refs/heads/budget-gate/audit' });
    auditAnchors(api(), GH_REPO, [], undefined, { app: 'github-actions' });
    api().post(`${GH_REPO}/check-runs`).reply(201, { id: 17 });
    const r = await gate('pull_request', withLabel('override:catastrophic-event'));
    expect(r.decision.allowed).toBe(true);
    expect(r.logs).toContainEqual(
      expect.stringMatching(/^warning: audit log: the record was anchored as the `github-actions` app/),
    );
  });

  it('under HARD-PAUSE blocks even a low-risk change', async () => {
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('src/ui/banner.tsx'))
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 14 });
    const blocked = await gate('pull_request', opened(), { workspace: workspace(hardPause) });
    expect(blocked.decision).toMatchObject({ state: 'hard-pause', allowed: false, risk: 'low' });
  });

  it('a malformed policy is a setup error naming file, line and key', async () => {
    const ws = workspace((p) => p.replace('target: 95%\n    window: 30d', 'taget: 95%\n    window: 30d'));
    let annotations: { path: string; annotation_level: string }[] = [];
    api()
      .post(`${GH_REPO}/check-runs`, (b) => {
        if (b.conclusion !== 'failure') return false;
        annotations = b.output.annotations;
        return true;
      })
      .reply(201, { id: 16 });
    // The base's copy is the policy in force: malformed there, nothing can be judged.
    // Reported (the failed check run above, the job summary in GateFailure.markdown), then thrown.
    const failure = await gate('pull_request', opened(), { workspace: ws }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ name: 'GateFailure' });
    expect((failure as { markdown: string }).markdown).toMatch(/slos\[0\]\.taget: .*did you mean `target`/);
    const err = (failure as Error).cause;
    expect(err).toMatchObject({ name: 'GateSetupError' });
    expect((err as Error).message).toContain(
      "the policy in force (.github/error-budget.yml at the pull request's base f95f852) is invalid",
    );
    expect((err as Error).message).toMatch(
      /\.github\/error-budget\.yml:\d+:\d+ slos\[0\]\.taget: .*did you mean `target`/,
    );
    const problems = (err as { problems: { file: string; path: string }[] }).problems;
    expect(problems.map((p) => p.path).sort()).toEqual(['slos[0].taget', 'slos[0].target']);
    expect(problems.every((p) => p.file === '.github/error-budget.yml')).toBe(true);
    expect(annotations.map((a) => [a.path, a.annotation_level])).toEqual([
      ['.github/error-budget.yml', 'failure'],
      ['.github/error-budget.yml', 'failure'],
    ]);
  });

  it('is judged by the policy at its base, not the copy it carries; the summary says what that copy would do', async () => {
    const demo = readFileSync(DEMO_POLICY, 'utf8');
    const body = opened();
    let summary = '';
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('src/ui/banner.tsx', POLICY_PATH))
      // The change's own copy, read at its head through the API: the checkout is not the authority.
      .get(`${GH_REPO}/contents/${encodeURIComponent(POLICY_PATH)}`)
      .query({ ref: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821' })
      .reply(200, contentsReply(demo))
      .post(`${GH_REPO}/check-runs`, (b) => {
        // nock asks every interceptor's body matcher, a GET's too: only a check run has an output.
        if (!b?.output) return false;
        summary = b.output.summary;
        return true;
      })
      .reply(201, { id: 17 });
    // The base holds the HARD-PAUSE line at 0.6; the pull request (and its checkout) put it back to 1.0.
    const r = await gate('pull_request', body, { workspace: workspace(), inForce: hardPause(demo) });
    expect(r.decision).toMatchObject({ state: 'hard-pause', allowed: false, risk: 'high' });
    expect(r.decision.reasons.map((x) => x.code)).toEqual(['hard-pause', 'policy-loosened', 'high-risk']);
    expect(r.decision.reasons[1]!.message).toContain('`states.hard_pause.consumed` 0.6 → 1');
    expect(r.change.policy_change).toEqual({
      path: POLICY_PATH,
      in_force_at: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e',
      loosens: [{ key: 'states.hard_pause.consumed', from: '0.6', to: '1' }],
    });
    expect(summary).toContain("Judged by .github/error-budget.yml at the pull request's base f95f852.");
    expect(summary).toMatch(/under its own policy this change would be allowed: SOFT-PAUSE/);
    // base policy, files, the change's copy, check run
    expect(r.requests).toBe(4);
  });

  it('a pull request that introduces the policy (none at its base) is judged by its own copy, and says so', async () => {
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(200, files('prompts/refund.md', POLICY_PATH))
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 18 });
    const r = await gate('pull_request', opened(), { inForce: null });
    expect(r.decision).toMatchObject({ state: 'soft-pause', allowed: false, risk: 'high' });
    expect(r.decision.warnings).toContain(
      "no .github/error-budget.yml at the pull request's base f95f852: this change introduces the policy, so its own copy judges it",
    );
    expect(r.change.policy_change).toBeUndefined();
  });
});
