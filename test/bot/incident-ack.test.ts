import { describe, expect, it } from 'vitest';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { deliver, example, T0, testProbot } from './support.ts';

// Without PagerDuty, the incident issue is where the on-call acknowledges: webhooks-examples'
// issues.assigned and issue_comment.created, adapted to name the incident's issue. A bot's own
// comment (the escalation's) acknowledges nothing; closing the issue resolves the incident.

async function setup() {
  const store = new SqliteWatchStore(':memory:');
  const probot = testProbot({
    store,
    source: {
      name: 'none',
      fetch: async () => {
        throw new Error('unused');
      },
    },
    clock: () => T0 + 60_000,
    policyPath: '.github/error-budget.yml',
    incidents: store.incidents,
  });
  const assigned = example('issues', (e) => e.action === 'assigned');
  const repo = `${assigned.repository.owner.login}/${assigned.repository.name}`;
  const inc = await store.incidents.open(
    {
      key: `budget-gate/${repo}/alert/fast-burn/tasks-success`,
      repo,
      installation_id: 1,
      slo: 'tasks-success',
      alert: 'fast-burn',
      severity: 'sev1',
      action: 'page',
    },
    T0,
  );
  await store.incidents.setIssue(inc, assigned.issue.number, 'open', 0);
  return { store, probot, assigned, inc };
}

describe('acknowledging on the incident issue', () => {
  it('records the first person to assign themselves; a bot comment does not count; closing resolves', async () => {
    const { store, probot, assigned, inc } = await setup();
    const botComment = example('issue_comment', (e) => e.action === 'created');
    botComment.issue.number = assigned.issue.number;
    botComment.repository = assigned.repository;
    botComment.comment.user = { ...botComment.comment.user, login: 'budget-gate[bot]', type: 'Bot' };
    await deliver(probot, 'issue_comment', botComment);
    expect((await store.incidents.get(inc))!.acked_at).toBeNull();

    await deliver(probot, 'issues', assigned);
    expect(await store.incidents.get(inc)).toMatchObject({
      acked_at: T0 + 60_000,
      acked_by: `@${assigned.assignee.login}`,
    });

    const closed = structuredClone(assigned);
    closed.action = 'closed';
    await deliver(probot, 'issues', closed);
    expect(await store.incidents.get(inc)).toMatchObject({ resolved_by: assigned.sender.login });
    expect((await store.incidents.timeline(inc)).map((t) => t.text)).toEqual([
      `acknowledged by @${assigned.assignee.login} (assigned themselves on #${assigned.issue.number})`,
      `closed by @${assigned.sender.login}`,
    ]);
    await store.close();
  });

  it('a comment by a person acknowledges', async () => {
    const { store, probot, assigned, inc } = await setup();
    const comment = example('issue_comment', (e) => e.action === 'created' && !e.issue.pull_request);
    comment.issue.number = assigned.issue.number;
    comment.repository = assigned.repository;
    await deliver(probot, 'issue_comment', comment);
    expect((await store.incidents.get(inc))!.acked_by).toBe(`@${comment.comment.user.login}`);
    await store.close();
  });
});
