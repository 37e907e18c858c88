import { describe, expect, it } from 'vitest';
import type { LabelEvent } from '../../../src/policy/gate/change.ts';
import {
  canApprove,
  describeApprovers,
  evaluateOverrides,
  overrideReasonOf,
  refuseOverride,
} from '../../../src/policy/overrides/overrides.ts';
import { AT, policy } from '../fixtures.ts';

const o = policy().overrides;
const H = 3_600_000;
const l = (who: string | null, appliedAt: number | null, extra: Partial<LabelEvent> = {}): LabelEvent => ({
  name: 'override:slo-wrong',
  applied_by: who,
  applied_at: appliedAt,
  applier_teams: [],
  applier_permission: 'read',
  ...extra,
});
const change = { author: 'dev', last_push_at: AT - 2 * H };

describe('override refusals', () => {
  it.each([
    ['a listed approver, after the last push, within the expiry', l('sre-lead', AT - H), null],
    ['a member of an approver team', l('x', AT - H, { applier_teams: ['acme/SRE'] }), null],
    ['an unknown reason', l('sre-lead', AT - H, { name: 'override:yolo' }), 'unknown-reason'],
    ['a bare override: label', l('sre-lead', AT - H, { name: 'override:' }), 'unknown-reason'],
    ['the author', l('Dev', AT - H, { applier_permission: 'admin' }), 'self-approval'],
    ['someone not listed', l('mallory', AT - H, { applier_permission: 'admin' }), 'not-an-approver'],
    ['an unknown applier', l(null, AT - H), 'not-an-approver'],
    ['before the last push', l('sre-lead', AT - 3 * H), 'before-last-push'],
    ['expired after 24h', l('sre-lead', AT - 25 * H, {}), 'expired'],
    ['a minute after the evaluation time (clocks differ)', l('sre-lead', AT + 60_000), null],
    ['an hour after the evaluation time', l('sre-lead', AT + H), 'applied-later'],
    ['in year 9999', l('sre-lead', Date.parse('9999-12-31T23:59:00Z')), 'applied-later'],
  ])('%s', (_what, label, code) => {
    const c =
      label.applied_at !== null && label.applied_at < AT - 24 * H
        ? { ...change, last_push_at: null }
        : change;
    expect(refuseOverride(o, label, c, AT)?.code ?? null).toBe(code);
  });

  // Attempt 6 of issue 20: the approver may have written the change without opening it.
  it.each([
    ['authored', 'author', /@sre-lead applied `override:slo-wrong` but authored commit 1111111/],
    ['committed', 'committer', /but committed commit 1111111/],
    ['is named as a co-author of', 'co-author', /but is named as a co-author of commit 1111111/],
  ] as const)('an approver who %s a commit of the change is refused', (_what, as, message) => {
    const c = { ...change, contributors: [{ login: 'SRE-Lead', as, commit: '1'.repeat(40) }] };
    const r = refuseOverride(o, l('sre-lead', AT - H), c, AT);
    expect(r).toMatchObject({ code: 'self-approval', applied_by: 'sre-lead' });
    expect(r?.message).toMatch(message);
  });

  it('when who wrote the change is not fully known, the override is refused with why', () => {
    const c = {
      ...change,
      contributors: [{ login: 'dev', as: 'author' as const, commit: '1'.repeat(40) }],
      contributors_unknown: ["commit 2222222's author <lead@corp.example> is linked to no GitHub account"],
    };
    const r = refuseOverride(o, l('sre-lead', AT - H), c, AT);
    expect(r?.code).toBe('unknown-authors');
    expect(r?.message).toContain('<lead@corp.example> is linked to no GitHub account');
    // Who may not approve at all is said first: that is what the person can act on.
    expect(refuseOverride(o, l('mallory', AT - H), c, AT)?.code).toBe('not-an-approver');
  });

  // Attempt 7 of issue 20: an unknown push time fails closed, saying what would fix it.
  it('when the last push time could not be read from the server, the override is refused', () => {
    const c = {
      ...change,
      last_push_at: null,
      last_push_unknown: 'GET …/activity answered 404: push it to a branch here',
    };
    const r = refuseOverride(o, l('sre-lead', AT - H), c, AT);
    expect(r?.code).toBe('unknown-push-time');
    expect(r?.message).toMatch(
      /cannot tell from GitHub when the change was last pushed.*answered 404: push it/,
    );
  });

  it('with no approvers named, maintainers and admins approve', () => {
    const open = policy(
      `version: 1\nslos:\n  - { name: s, sli: { kind: success }, target: 0.9, window: 7d, scope: all }\n`,
    ).overrides;
    expect(canApprove(open, l('m', 0, { applier_permission: 'maintain' }))).toBe(true);
    expect(canApprove(open, l('w', 0, { applier_permission: 'write' }))).toBe(false);
    expect(describeApprovers(open)).toBe('anyone with maintain permission or higher');
  });

  it('the latest valid label wins and every refused one is reported', () => {
    const r = evaluateOverrides(
      o,
      {
        files: [],
        labels: [l('mallory', AT - H), l('sre-lead', AT - 30 * 60_000, { name: 'override:regulatory' })],
        ...change,
      },
      AT,
    );
    expect(r.applied).toEqual({
      reason: 'regulatory',
      label: 'override:regulatory',
      applied_by: 'sre-lead',
      applied_at: new Date(AT - 30 * 60_000).toISOString(),
      expires_at: new Date(AT - 30 * 60_000 + 24 * H).toISOString(),
    });
    expect(r.refusals.map((x) => [x.applied_by, x.code])).toEqual([['mallory', 'not-an-approver']]);
  });

  it('reads the reason from the label', () => {
    expect(overrideReasonOf('override:slo-wrong')).toBe('slo-wrong');
    expect(overrideReasonOf('bug')).toBeNull();
  });
});
