import { describe, expect, it } from 'vitest';
import { fetchLabelAppliers, gatherLabelEvents } from '../../src/github/labels.ts';
import { overridesSchema } from '../../src/policy/spec/schema.ts';
import { useNock } from '../support/nock.ts';
import { API, api, REPO, testOctokit } from './helpers.ts';

// Who applied an override label and what GitHub says about them, on the exact endpoints, asking
// only what the policy's approvers need.

const EVENTS = '/repos/acme/agents/issues/5/events';
const labeled = (name: string, actor: string, at: string) => ({
  event: 'labeled',
  actor: { login: actor },
  label: { name },
  created_at: at,
});
/** The issue's one labeled event, `name` applied by `actor`, as the events endpoint lists it. */
const eventsListing = (name: string, actor: string) =>
  api()
    .get(EVENTS)
    .query(true)
    .reply(200, [labeled(name, actor, '2026-11-19T08:00:00Z')]);
/** What the bot gathers for issue 5, opened by `dev`. */
const gather = (gh: Parameters<typeof gatherLabelEvents>[0], labels: string[], overrides: unknown) =>
  gatherLabelEvents(gh, REPO, {
    issueNumber: 5,
    labels,
    overrides: overridesSchema.parse(overrides),
    author: 'dev',
  });
const link = (last: number) => `<${API}${EVENTS}?per_page=100&page=${last}>; rel="last"`;

useNock('all-called');

describe('fetchLabelAppliers', () => {
  it('takes the last labeled event of each label, reading a long history from its last page backwards', async () => {
    const { gh, counter } = testOctokit();
    api()
      .get(EVENTS)
      .query({ per_page: 100, page: 1 })
      .reply(200, [labeled('override:slo-wrong', 'early', '2026-11-01T00:00:00Z')], { link: link(3) })
      .get(EVENTS)
      .query({ per_page: 100, page: 3 })
      .reply(200, [
        labeled('override:slo-wrong', 'sre-lead', '2026-11-19T08:00:00Z'),
        {
          event: 'unlabeled',
          actor: { login: 'x' },
          label: { name: 'bug' },
          created_at: '2026-11-19T09:00:00Z',
        },
      ]);
    const found = await fetchLabelAppliers(gh, REPO, 5, ['override:slo-wrong']);
    expect(found.get('override:slo-wrong')).toEqual({
      applied_by: 'sre-lead',
      applied_at: Date.parse('2026-11-19T08:00:00Z'),
    });
    // Found on the last page: page 2 is never read.
    expect(counter.total).toBe(2);
  });

  it('asks nothing when no label could be an override', async () => {
    const { gh, counter } = testOctokit();
    expect((await fetchLabelAppliers(gh, REPO, 5, [])).size).toBe(0);
    expect(counter.total).toBe(0);
  });
});

describe('gatherLabelEvents', () => {
  it('asks GitHub nothing about the author’s own label, nor about reasons the policy does not accept', async () => {
    const { gh, counter } = testOctokit();
    eventsListing('override:slo-wrong', 'dev');
    const r = await gather(gh, ['bug', 'override:slo-wrong', 'override:because'], {
      approvers: { teams: ['acme/sre'] },
    });
    expect(r.labels.map((l) => [l.name, l.applied_by])).toEqual([
      ['bug', null],
      ['override:slo-wrong', 'dev'],
      ['override:because', null],
    ]);
    expect(counter.total).toBe(1);
  });

  it('a team the token cannot read is a warning naming the permission, and the next team is tried', async () => {
    const { gh } = testOctokit();
    eventsListing('override:regulatory', 'ops')
      .get('/orgs/acme/teams/sre/memberships/ops')
      .reply(403, { message: 'Resource not accessible by integration' })
      .get('/orgs/acme/teams/oncall/memberships/ops')
      .reply(200, { state: 'active', role: 'member' });
    const r = await gather(gh, ['override:regulatory'], {
      approvers: { teams: ['acme/sre', 'acme/oncall'] },
    });
    expect(r.labels[0]).toMatchObject({ applied_by: 'ops', applier_teams: ['acme/oncall'] });
    expect(r.warnings[0]).toMatch(/team acme\/sre .*`members: read`/);
  });

  it('a rate-limited 403 is not mistaken for a missing permission and quietly skipped', async () => {
    const { gh } = testOctokit();
    eventsListing('override:regulatory', 'ops').get('/orgs/acme/teams/sre/memberships/ops').reply(403, {
      message: 'API rate limit exceeded for installation ID 42.',
      documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
    });
    await expect(gather(gh, ['override:regulatory'], { approvers: { teams: ['acme/sre'] } })).rejects.toThrow(
      /rate limit/,
    );
  });

  it('a policy naming no approvers reads the applier’s repository permission', async () => {
    const { gh } = testOctokit();
    eventsListing('override:slo-wrong', 'maint')
      .get('/repos/acme/agents/collaborators/maint/permission')
      .reply(200, { permission: 'write', role_name: 'maintain' });
    const r = await gather(gh, ['override:slo-wrong'], {});
    expect(r.labels[0]).toMatchObject({ applied_by: 'maint', applier_permission: 'maintain' });
  });
});
