import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { boundBody, comment, createPull } from '../../src/github/pull-actions.ts';
import { loadPolicy, PolicyError } from '../../src/policy/spec/load.ts';
import { useNock } from '../support/nock.ts';
import { api, REPO, testOctokit } from './helpers.ts';

// GitHub's limits on labels and bodies, and the App's permissions, checked against what GitHub
// enforces: the mock answers 422 as GitHub does for a body over 65,536 characters.

const BODY_422 = {
  message: 'Validation Failed',
  errors: [
    {
      resource: 'Issue',
      code: 'custom',
      field: 'body',
      message: 'body is too long (maximum is 65536 characters)',
    },
  ],
  documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
  status: '422',
};

useNock('all-called');

describe('pull request and comment bodies', () => {
  const tooLong = (b: { body: string }) => b.body.length > 65_536;

  it('a revert body over 65,536 characters is cut with a note, and keeps its marker', async () => {
    const { gh } = testOctokit();
    let sent = '';
    api()
      .post('/repos/acme/agents/pulls', tooLong)
      .optionally()
      .reply(422, BODY_422)
      .post('/repos/acme/agents/pulls', (b) => {
        sent = b.body;
        return !tooLong(b);
      })
      .reply(201, {
        number: 9,
        html_url: 'https://github.com/acme/agents/pull/9',
        node_id: 'PR_x',
        draft: false,
      });
    const marker = '<!-- budget-gate:revert deployment=42 -->';
    const body = `${'- `prompts/a.md`: restored\n'.repeat(4000)}\n${marker}`;
    const pr = await createPull(gh, REPO, {
      title: 'Revert #7',
      head: 'budget-gate/revert-42',
      base: 'main',
      body,
      draft: false,
    });
    expect(pr.number).toBe(9);
    expect(sent.length).toBeLessThanOrEqual(65_536);
    expect(sent).toContain('… (truncated to fit GitHub’s 65,536-character limit)');
    expect(sent.endsWith(marker)).toBe(true);
  });

  it('a comment is bounded the same way; a short one is sent as it is', async () => {
    const { gh } = testOctokit();
    const bodies: string[] = [];
    api()
      .post('/repos/acme/agents/issues/7/comments', (b) => {
        bodies.push(b.body);
        return !tooLong(b);
      })
      .times(2)
      .reply(201, { id: 1 });
    await comment(gh, REPO, 7, '😀'.repeat(40_000));
    await comment(gh, REPO, 7, 'short');
    expect(bodies[0]!.length).toBeLessThanOrEqual(65_536);
    expect(bodies[0]).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(bodies[1]).toBe('short');
  });

  it('boundBody leaves a body at the limit alone', () => {
    const exact = 'x'.repeat(65_536);
    expect(boundBody(exact)).toBe(exact);
  });
});

describe('override reasons fit a label', () => {
  const policy = (reason: string) =>
    `version: 1\nslos:\n  - name: s\n    sli: { kind: success }\n    target: 0.95\n    window: 30d\n    scope: all\noverrides:\n  reasons: [slo-wrong, ${reason}]\n`;

  it('a reason of 41 characters is accepted: override:<reason> is exactly 50, GitHub’s label limit', () => {
    const reason = 'r'.repeat(41);
    expect(`override:${reason}`).toHaveLength(50);
    expect(loadPolicy(policy(reason), 'p.yml').policy.overrides.reasons).toContain(reason);
  });

  it('a reason of 42 characters is refused by lint, located', () => {
    let err: unknown;
    try {
      loadPolicy(policy('r'.repeat(42)), '.github/error-budget.yml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).problems[0]).toMatchObject({
      line: 9,
      path: 'overrides.reasons[1]',
      message: expect.stringContaining(
        'at most 41 characters: `override:<reason>` must fit GitHub’s 50-character label limit',
      ),
    });
  });
});

describe('app.yml', () => {
  const app = parse(readFileSync(new URL('../../app.yml', import.meta.url), 'utf8')) as {
    default_events: string[];
    default_permissions: Record<string, string>;
  };

  it('asks for actions: write (read is what custom deployment protection rules need; write re-runs held gates)', () => {
    expect(app.default_events).toContain('deployment_protection_rule');
    expect(app.default_permissions.actions).toBe('write');
    expect(app.default_permissions.deployments).toBe('write');
  });

  it('can anchor the audit log (checks: write) and does not ask for workflows: write', () => {
    expect(app.default_permissions.checks).toBe('write');
    expect(app.default_permissions.workflows).toBeUndefined();
  });
});
