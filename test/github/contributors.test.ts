import { describe, expect, it } from 'vitest';
import { contributorsOf, noreplyLogin } from '../../src/github/contributors.ts';
import { fetchPullCommits, type PullCommit } from '../../src/github/pull-commits.ts';
import { useNock } from '../support/nock.ts';
import { api, REPO, testOctokit } from './helpers.ts';

// Attempt 6 of issue 20: who wrote a pull request, as GitHub logins — every commit's author and
// committer (GitHub's web-flow aside) and every Co-authored-by trailer — and why, when someone
// cannot be named. Commits shaped as GET /repos/{owner}/{repo}/pulls/{n}/commits answers.

const R = '/repos/acme/agents';
const git = (email: string) => ({ name: email.split('@')[0]!, email, date: '2026-11-20T06:55:00Z' });
function commit(
  n: number,
  o: {
    author?: string | null;
    committer?: string | null;
    authorEmail?: string;
    committerEmail?: string;
    message?: string;
  },
): PullCommit {
  const author = o.author === undefined ? 'dev' : o.author;
  const committer = o.committer === undefined ? author : o.committer;
  return {
    sha: `${n}`.repeat(40),
    commit: {
      message: o.message ?? 'Rewrite the refund prompt',
      author: git(o.authorEmail ?? `${author ?? 'someone'}@example.com`),
      committer: git(o.committerEmail ?? `${committer ?? 'someone'}@example.com`),
      verification: { verified: false },
    },
    author: author === null ? null : { login: author },
    committer: committer === null ? null : { login: committer },
  };
}
const of = (...commits: PullCommit[]) => contributorsOf({ commits, truncated: false });

useNock('all-called');

describe('noreplyLogin', () => {
  it.each([
    ['21031067+Codertocat@users.noreply.github.com', 'Codertocat'],
    ['Codertocat@users.noreply.github.com', 'Codertocat'],
    ['49699333+dependabot[bot]@users.noreply.github.com', 'dependabot[bot]'],
    ['  7777+sre-lead@USERS.NOREPLY.GITHUB.COM ', 'sre-lead'],
    ['sre-lead@corp.example', null],
    ['noreply@github.com', null],
    ['7777+sre-lead@users.noreply.github.com.evil.example', null],
  ])('%s → %s', (email, login) => {
    expect(noreplyLogin(email)).toBe(login);
  });
});

describe('contributorsOf', () => {
  it('names every author and committer, GitHub’s web-flow aside', () => {
    const r = of(
      commit(1, { author: 'alice', committer: 'web-flow' }),
      commit(2, { author: 'bob', committer: 'carol' }),
    );
    expect(r.unknown).toEqual([]);
    expect(r.contributors).toEqual([
      { login: 'alice', as: 'author', commit: '1'.repeat(40) },
      { login: 'bob', as: 'author', commit: '2'.repeat(40) },
      { login: 'carol', as: 'committer', commit: '2'.repeat(40) },
    ]);
  });

  it('matches Co-authored-by trailers by noreply address, or by an email GitHub linked on the commits', () => {
    const r = of(
      commit(1, { author: 'lead', authorEmail: 'lead@corp.example' }),
      commit(2, {
        author: 'dev',
        message:
          'Tune the prompt\n\nCo-authored-by: SRE Lead <7777+sre-lead@users.noreply.github.com>\nco-authored-by: Old Style <oldie@users.noreply.github.com>\nCo-Authored-By: Lead <LEAD@corp.example>',
      }),
    );
    expect(r.unknown).toEqual([]);
    expect(r.contributors.filter((c) => c.as === 'co-author').map((c) => c.login)).toEqual([
      'sre-lead',
      'oldie',
      'lead',
    ]);
  });

  it('an author GitHub links to no account is named by a noreply email, else said to be unknown', () => {
    const r = of(
      commit(1, { author: null, authorEmail: '7777+sre-lead@users.noreply.github.com', committer: 'dev' }),
      commit(2, {
        author: null,
        committer: null,
        authorEmail: 'lead@corp.example',
        committerEmail: 'lead@corp.example',
      }),
    );
    expect(r.contributors.map((c) => `${c.login}:${c.as}`)).toEqual(['sre-lead:author', 'dev:committer']);
    expect(r.unknown).toEqual([
      "commit 2222222's author <lead@corp.example> is linked to no GitHub account",
      "commit 2222222's committer <lead@corp.example> is linked to no GitHub account",
    ]);
  });

  it('a co-author who is not a noreply address and matches no linked email is unknown', () => {
    const r = of(commit(1, { message: 'x\n\nCo-authored-by: Someone <someone@corp.example>' }));
    expect(r.unknown).toEqual([
      'commit 1111111 names co-author Someone <someone@corp.example>, which is neither a GitHub noreply address nor an email GitHub linked on these commits',
    ]);
  });

  it('a list GitHub cut at 250 commits leaves the rest unknown', () => {
    const r = contributorsOf({ commits: [commit(1, {})], truncated: true });
    expect(r.unknown).toEqual([
      'GitHub lists at most 250 commits of a pull request and this one has that many: who wrote the rest cannot be read',
    ]);
  });
});

describe('fetchPullCommits', () => {
  it('reads pages of 100 up to the 250 GitHub lists, and says the list may be cut', async () => {
    const { gh } = testOctokit();
    const page = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        ...commit(1, {}),
        sha: (from + i).toString(16).padStart(40, '0'),
      }));
    const next = (p: number) => ({
      link: `<https://api.github.test${R}/pulls/9/commits?per_page=100&page=${p}>; rel="next", <https://api.github.test${R}/pulls/9/commits?per_page=100&page=3>; rel="last"`,
    });
    api()
      .get(`${R}/pulls/9/commits`)
      .query({ per_page: 100 })
      .reply(200, page(0, 100), next(2))
      .get(`${R}/pulls/9/commits`)
      .query({ per_page: 100, page: 2 })
      .reply(200, page(100, 100), next(3))
      .get(`${R}/pulls/9/commits`)
      .query({ per_page: 100, page: 3 })
      .reply(200, page(200, 50));
    const r = await fetchPullCommits(gh, REPO, 9);
    expect(r.commits).toHaveLength(250);
    expect(r.truncated).toBe(true);
  });
});
