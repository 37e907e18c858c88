import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchDeployDiff } from '../../src/github/deploy-diff.ts';
import { planRevertCommit } from '../../src/github/revert-pr.ts';
import { assertAllCalled, setupNock } from '../support/nock.ts';
import { api, REPO, testOctokit } from './helpers.ts';

// A deploy's changed files are never judged partial as if whole: past the 300 files the compare and
// commit endpoints list, the trees list them all; pages are at most 100 (GitHub's maximum).

const R = '/repos/acme/agents';
const BASE = 'b'.repeat(40);
const HEAD = 'h'.repeat(40);
const MERGE_BASE = 'm'.repeat(40);
const sha = (i: number) => i.toString(16).padStart(40, '0');
const commit = (s: string, parents = [sha(0)]) => ({
  sha: s,
  commit: { message: `commit ${s.slice(-4)}` },
  author: { login: 'dev' },
  parents: parents.map((p) => ({ sha: p })),
});
const docs = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ filename: `docs/page-${from + i}.md`, status: 'modified' }));
/** A recursive tree as GitHub lists it. */
const tree = (paths: Record<string, string>, truncated = false) => ({
  sha: 't',
  tree: Object.entries(paths).map(([path, blob]) => ({
    path,
    mode: '100644',
    type: 'blob',
    sha: blob.padEnd(40, '0'),
  })),
  truncated,
});
const lastDeployment = () =>
  api()
    .get(`${R}/deployments`)
    .query({ environment: 'production', per_page: 10 })
    .reply(200, [{ id: 41, sha: BASE }])
    .get(`${R}/deployments/41/statuses`)
    .query({ per_page: 1 })
    .reply(200, [{ state: 'success' }]);

/** 450 files: the first 300 are docs; the prompt change is past what the compare lists. */
function bigTrees() {
  const before: Record<string, string> = { 'prompts/refund.md': 'a1' };
  const after: Record<string, string> = { 'prompts/refund.md': 'a2' };
  for (let i = 0; i < 449; i++) {
    before[`docs/page-${i}.md`] = `b${i}`;
    after[`docs/page-${i}.md`] = `c${i}`;
  }
  return { before, after };
}

beforeEach(setupNock);
afterEach(assertAllCalled);

describe('fetchDeployDiff', () => {
  it('a compare cut at 300 files is completed from the trees: the prompt past the cut is seen', async () => {
    const { gh } = testOctokit();
    const { before, after } = bigTrees();
    lastDeployment()
      .get(`${R}/compare/${BASE}...${HEAD}`)
      .reply(200, {
        status: 'ahead',
        total_commits: 1,
        commits: [commit(HEAD)],
        files: docs(300),
        merge_base_commit: { sha: MERGE_BASE },
      })
      .get(`${R}/git/trees/${MERGE_BASE}`)
      .query({ recursive: '1' })
      .reply(200, tree(before))
      .get(`${R}/git/trees/${HEAD}`)
      .query({ recursive: '1' })
      .reply(200, tree(after));
    const d = await fetchDeployDiff(gh, REPO, { environment: 'production', head: HEAD });
    expect(d.files).toHaveLength(450);
    expect(d.files).toContain('prompts/refund.md');
    expect(d.truncated).toBe(false);
  });

  it('a tree too large to read is a partial list: truncated, with a warning naming the range', async () => {
    const { gh } = testOctokit();
    lastDeployment()
      .get(`${R}/compare/${BASE}...${HEAD}`)
      .reply(200, {
        status: 'ahead',
        total_commits: 1,
        commits: [commit(HEAD)],
        files: docs(300),
        merge_base_commit: { sha: MERGE_BASE },
      })
      .get(`${R}/git/trees/${MERGE_BASE}`)
      .query(true)
      .reply(200, tree({}, true))
      .get(`${R}/git/trees/${HEAD}`)
      .query(true)
      .reply(200, tree({}, true));
    const d = await fetchDeployDiff(gh, REPO, { environment: 'production', head: HEAD });
    expect(d.truncated).toBe(true);
    expect(d.warnings).toContainEqual(
      expect.stringMatching(
        /^bbbbbbb\.\.\.hhhhhhh: the deploy changes more files than GitHub can list .*judged on the 300 files listed, which may be partial$/,
      ),
    );
  });

  it('reads every commit of a long deploy, 100 a page, without duplicates', async () => {
    const { gh } = testOctokit();
    const all = Array.from({ length: 320 }, (_, i) => commit(sha(i + 1), [sha(i)]));
    lastDeployment()
      .get(`${R}/compare/${BASE}...${HEAD}`)
      .reply(200, {
        status: 'ahead',
        total_commits: 320,
        commits: all.slice(0, 250),
        files: docs(3),
        merge_base_commit: { sha: BASE },
      })
      .get(`${R}/compare/${BASE}...${HEAD}`)
      .query({ per_page: 100, page: 3 })
      .reply(200, { status: 'ahead', total_commits: 320, commits: all.slice(200, 300), files: [] })
      .get(`${R}/compare/${BASE}...${HEAD}`)
      .query({ per_page: 100, page: 4 })
      .reply(200, { status: 'ahead', total_commits: 320, commits: all.slice(300), files: [] });
    const d = await fetchDeployDiff(gh, REPO, { environment: 'production', head: HEAD });
    expect(d.commits.map((c) => c.sha)).toEqual(all.map((c) => c.sha));
    expect(d.warnings.some((w) => w.includes('messages are read'))).toBe(false);
  });

  it('the head commit alone: per_page is 100 (GitHub’s maximum), and more files come from the trees', async () => {
    const { gh } = testOctokit();
    const { before, after } = bigTrees();
    api()
      .get(`${R}/deployments`)
      .query(true)
      .reply(200, [])
      .get(`${R}/commits/${HEAD}`)
      .query({ per_page: 100 })
      .reply(
        200,
        { ...commit(HEAD, [BASE]), files: docs(100) },
        {
          link: `<https://api.github.com/repositories/1/commits/${HEAD}?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/commits/${HEAD}?per_page=100&page=5>; rel="last"`,
        },
      )
      .get(`${R}/git/trees/${BASE}`)
      .query(true)
      .reply(200, tree(before))
      .get(`${R}/git/trees/${HEAD}`)
      .query(true)
      .reply(200, tree(after));
    const d = await fetchDeployDiff(gh, REPO, { environment: 'production', head: HEAD });
    expect(d.base_source).toBe('head-commit');
    expect(d.files).toHaveLength(450);
    expect(d.files).toContain('prompts/refund.md');
  });
});

describe('planRevertCommit', () => {
  it('reverts every file past the 300 the compare lists, and leaves workflow files for a person', async () => {
    const { gh } = testOctokit();
    const PREV = 'p'.repeat(40);
    const { before, after } = bigTrees();
    before['.github/workflows/ci.yml'] = 'w1';
    after['.github/workflows/ci.yml'] = 'w2';
    api()
      .get(`${R}/compare/${PREV}...${HEAD}`)
      .reply(200, { status: 'ahead', total_commits: 1, files: docs(300), merge_base_commit: { sha: PREV } })
      .get(`${R}/git/trees/${PREV}`)
      .query({ recursive: '1' })
      .reply(200, tree(before))
      .get(`${R}/git/trees/${HEAD}`)
      .query({ recursive: '1' })
      .reply(200, tree(after))
      .get(`${R}/branches/main`)
      .reply(200, { commit: { sha: HEAD, commit: { tree: { sha: 'tip-tree' } } } })
      .get(`${R}/git/trees/${PREV}`)
      .query({ recursive: '1' })
      .reply(200, tree(before));
    const plan = await planRevertCommit(gh, REPO, { previous: PREV, deployed: HEAD, branch: 'main' });
    expect(plan.entries).toHaveLength(450);
    expect(plan.entries.find((e) => e.path === 'prompts/refund.md')).toMatchObject({
      sha: 'a1'.padEnd(40, '0'),
    });
    expect(plan.conflicts).toEqual(['.github/workflows/ci.yml']);
    expect(plan.warnings).toContainEqual(
      expect.stringContaining('workflow files are left for a manual revert'),
    );
  });
});
