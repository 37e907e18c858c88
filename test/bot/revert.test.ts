import { describe, expect, it } from 'vitest';
import { evidenceSchema } from '../../src/bot/evidence.ts';
import { collectingLog } from '../../src/bot/log.ts';
import { openRevert } from '../../src/bot/revert/revert.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { assertAllCalled, useNock } from '../support/nock.ts';
import { tempDir } from '../support/tasks.ts';
import { attributable, firstBreachMinute } from './oracle.ts';
import {
  BRANCH,
  NEW_COMMIT,
  NEW_TREE,
  nockRevert,
  OLD_MODEL,
  OLD_REFUND,
  REVERT_PR,
  TIP,
  TIP_TREE,
} from './revert-nock.ts';
import {
  DEPLOYED_SHA,
  DEPLOYMENT_ID,
  deliver,
  deploymentStatusPayload,
  gitBlobSha,
  MIN,
  newWatch,
  nockInstallationToken,
  POLICY_TEXT,
  PREVIOUS_ID,
  PREVIOUS_SHA,
  probotWatcher,
  recordedEvidence,
  SHIPPED_PR,
  scenarioBot,
  scenarioTasks,
  startWatch,
  T0,
} from './support.ts';

useNock();

async function setup(before: number, after: number) {
  const tasks = scenarioTasks(before, after);
  const store = new SqliteWatchStore(`${tempDir('bg-store-')}/watches.sqlite`);
  const { source, clock, probot } = scenarioBot(tasks, store);
  const { watcher, log } = probotWatcher(probot, { store, source, clock: clock.now });
  return { tasks, source, store, clock, probot, watcher, log };
}

describe('deployment_status → watch → revert pull request', () => {
  it('reverts a deployment burning 25% of the budget in 20 minutes at the first tick past the line, once', async () => {
    const { tasks, store, clock, probot, watcher } = await setup(0.005, 0.0525);
    expect(attributable(tasks, T0, T0 + 20 * MIN).consumed).toBeCloseTo(0.25, 2);
    const breachAt = firstBreachMinute(tasks, T0);
    // The judge tests the deploy's tasks against a bound on the baseline fixed once: a minute
    // sooner than the joint mixture before it (29).
    expect(breachAt).toBe(28);

    await startWatch(probot, 'delivery-1');
    const watch = await store.get(DEPLOYMENT_ID);
    expect(watch).toMatchObject({
      status: 'watching',
      sha: DEPLOYED_SHA,
      previous_sha: PREVIOUS_SHA,
      previous_deployment_id: PREVIOUS_ID,
      deployed_at: T0,
      pull_number: SHIPPED_PR,
      environment: 'production',
      default_branch: 'master',
      installation_id: 1,
    });

    for (let m = 1; m < breachAt!; m++) {
      clock.set(T0 + m * MIN);
      const r = await watcher.tick();
      expect(r.reverted, `minute ${m}`).toEqual([]);
      expect(r.fetches).toBe(1);
      expect(r.errors).toEqual([]);
    }
    expect((await store.get(DEPLOYMENT_ID))!.status).toBe('watching');

    const gh = nockRevert();
    clock.set(T0 + breachAt! * MIN);
    const report = await watcher.tick();
    assertAllCalled();
    expect(report.errors).toEqual([]);
    expect(report.reverted).toEqual([
      { deployment_id: DEPLOYMENT_ID, pull_number: REVERT_PR, existing: false },
    ]);

    // The tree: every file the deployment changed, back as it was at the previous deployment.
    expect(gh.tree).toEqual({
      base_tree: TIP_TREE,
      tree: [
        { path: 'config/model-old.yml', mode: '100644', type: 'blob', sha: gitBlobSha(OLD_MODEL) },
        { path: 'config/model.yml', mode: '100644', type: 'blob', sha: null },
        { path: 'prompts/new-tool.md', mode: '100644', type: 'blob', sha: null },
        { path: 'prompts/refund.md', mode: '100644', type: 'blob', sha: gitBlobSha(OLD_REFUND) },
      ],
    });
    expect(gh.commit).toMatchObject({ tree: NEW_TREE, parents: [TIP] });
    expect(gh.commit.message).toMatch(/^Revert deployment 145988746 \(f95f852\) on production/);
    expect(gh.ref).toEqual({ ref: `refs/heads/${BRANCH}`, sha: NEW_COMMIT });

    expect(gh.pull).toMatchObject({ head: BRANCH, base: 'master', draft: false });
    expect(gh.pull.title).toBe('Revert #42 (deployment 145988746 to production)');
    const body: string = gh.pull.body;
    expect(body).toContain('`tasks-success`: success 99% over 7d');
    expect(body).toContain(
      '| Verdict | revert by the share rule (auto_revert.consumed 20% within 60m): at 99% confidence, holding over every check of the watch |',
    );
    expect(body).toMatch(/\| Attributable burn \| at least 2\.\dx, at most \d+\.\dx \(the line: 2\.\dx\) \|/);
    expect(body).toMatch(/Attributable consumed \| \*\*3\d%\*\* of the 7d error budget beyond the baseline/);
    expect(body).toContain('| Auto-revert line | 20% within 60m |');
    // The verdict says what it was timed against: the timing guard found no likelier onset.
    expect(body).toMatch(
      /the change is timed to the deploy: changes from other minutes \(from \S+ before it to now, [^)]*\), on this SLO and the deployment's others that changed, do not make the counts 3x likelier than a step at the deploy \(timing guard\)/,
    );
    expect(body).toMatch(/Burn rate since the deploy \| 5\.\dx \(bad ratio 5\.\d%; \d+ of 2800 tasks\)/);
    expect(body).toContain('| Baseline before the deploy | 0.50x (bad ratio 0.5% over the 1h before) |');
    expect(body).toContain('| Went live | 2026-03-02T12:00:00.000Z |');
    expect(body).toContain('| Detected | 2026-03-02T12:28:00.000Z (28m after) |');
    expect(body).toContain('of `f95f852` to `production`');
    expect(body).toContain('| Shipped by | #42 Rewrite the refund prompt |');
    expect(body).toContain('| Restores | `aaaaaaa`, deployment 145988001 |');
    expect(body).toContain('Runbook (steady-burn): https://runbooks.example.com/agents/steady-burn');
    expect(body).toContain('- `prompts/new-tool.md`: deleted (the deployment added it)');
    expect(body).toContain('- `prompts/refund.md`: restored from `aaaaaaa`');
    expect(body).toContain('merges itself once its checks pass');
    expect(body).toContain('<!-- budget-gate:revert deployment=145988746 -->');

    expect(gh.labels).toEqual({ labels: ['revert', 'budget-gate'] });
    expect(gh.reviewers).toEqual({ reviewers: ['oncall-sre'], team_reviewers: ['sre'] });
    expect(gh.graphql.query).toContain('enablePullRequestAutoMerge');
    expect(gh.graphql.variables).toEqual({ id: 'PR_kwDOrevert', method: 'SQUASH' });
    expect(gh.status).toMatchObject({
      state: 'failure',
      environment: 'production',
      log_url: 'https://github.com/Codertocat/Hello-World/pull/99',
    });
    expect(gh.status.description).toMatch(
      /^budget-gate: reverted in #99: tasks-success: revert by the share rule/,
    );
    expect(gh.status.description.length).toBeLessThanOrEqual(140);
    expect(gh.comment.body).toContain('budget-gate is reverting this change');
    expect(gh.comment.body).toContain('Revert: https://github.com/Codertocat/Hello-World/pull/99');
    // The installation token was fetched when the watch started; opening the revert takes these.
    expect(gh.requests).toHaveLength(13);

    const done = await store.get(DEPLOYMENT_ID);
    expect(done).toMatchObject({ status: 'reverted', revert_pr: REVERT_PR, lease_owner: null });
    expect(evidenceSchema.parse(JSON.parse(done!.evidence!)).slo).toBe('tasks-success');

    // Redelivery of the same webhook: no GitHub call (nock refuses any), no second watch.
    await deliver(probot, 'deployment_status', deploymentStatusPayload(), 'delivery-1');
    expect(await store.list()).toHaveLength(1);
    // Later ticks have nothing left to do for it.
    clock.set(T0 + (breachAt! + 1) * MIN);
    expect(await watcher.tick()).toMatchObject({ claimed: 0, reverted: [] });
    await store.close();
  });

  it('a second attempt finds the branch taken and finishes the open pull request, doing nothing twice', async () => {
    const store = new SqliteWatchStore(':memory:');
    const policy = loadPolicy(POLICY_TEXT, 'p.yml').policy;
    const watch = newWatch(DEPLOYMENT_ID, T0);
    await store.add(watch, T0);
    const w = (await store.get(DEPLOYMENT_ID))!;
    const evidence = recordedEvidence();
    const { probot } = await setup(0.005, 0.005);
    nockInstallationToken();
    // The first attempt died after commenting but before recording it: labels, reviewers,
    // auto-merge and the status are done now; the comment is found on GitHub and not repeated.
    const gh = nockRevert({ refExists: true, existingPr: REVERT_PR, alreadyDone: { comment: true } });
    const result = await openRevert(await probot.auth(1), w, evidence, policy, collectingLog());
    assertAllCalled();
    expect(result).toEqual({
      pull_number: REVERT_PR,
      url: 'https://github.com/Codertocat/Hello-World/pull/99',
      existing: true,
      draft: false,
    });
    expect(gh.pull).toBeUndefined();
    expect(gh.labels).toEqual({ labels: ['revert', 'budget-gate'] });
    expect(gh.reviewers).toBeDefined();
    expect(gh.graphql.variables).toEqual({ id: 'PR_x', method: 'SQUASH' });
    expect(gh.status).toMatchObject({
      state: 'failure',
      log_url: 'https://github.com/Codertocat/Hello-World/pull/99',
    });
    expect(gh.comment).toBeUndefined();
    expect(gh.requests.filter((r) => r.startsWith('POST') && r.endsWith('/pulls'))).toEqual([]);

    // The lock holder died before opening its pull request: this attempt opens it on that branch.
    const gh2 = nockRevert({ refExists: true, existingPr: null });
    const opened = await openRevert(await probot.auth(1), w, evidence, policy, collectingLog());
    assertAllCalled();
    expect(opened).toMatchObject({ pull_number: REVERT_PR, existing: false });
    expect(gh2.pull).toMatchObject({ head: BRANCH });
    await store.close();
  });

  it('opens a draft "needs a manual revert" when a later commit touched the same files', async () => {
    const { tasks, store, clock, probot, watcher } = await setup(0.005, 0.0525);
    await startWatch(probot, 'delivery-2');
    const breachAt = firstBreachMinute(tasks, T0)!;
    for (let m = 1; m < breachAt; m++) {
      clock.set(T0 + m * MIN);
      await watcher.tick();
    }
    const gh = nockRevert({ later: ['prompts/refund.md'] });
    clock.set(T0 + breachAt * MIN);
    const report = await watcher.tick();
    assertAllCalled();
    expect(report.reverted).toHaveLength(1);
    expect(gh.pull.draft).toBe(true);
    expect(gh.pull.title).toBe('Revert #42 (deployment 145988746 to production): needs a manual revert');
    expect(gh.pull.body).toContain('**Needs a manual revert.**');
    expect(gh.pull.body).toContain('### Needs a manual revert\n\n- `prompts/refund.md`');
    // The conflicting file is left alone; the others are still reverted.
    expect(gh.tree.tree.map((e: { path: string }) => e.path)).toEqual([
      'config/model-old.yml',
      'config/model.yml',
      'prompts/new-tool.md',
    ]);
    expect(gh.graphql).toBeUndefined();
    expect(gh.comment.body).toContain('(draft: needs a manual revert)');
    await store.close();
  });
});
