import { describe, expect, it } from 'vitest';
import { fetchDeployDiff, fetchLastSuccessfulDeployment } from '../../src/github/deploy-diff.ts';
import { planRevertCommit } from '../../src/github/revert-pr.ts';
import { useNock } from '../support/nock.ts';
import { api, lastDeployment as nockLastDeployment, REPO, testOctokit } from './helpers.ts';

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
const lastDeployment = () => nockLastDeployment(R, BASE);

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

useNock('all-called');

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

// Attempt 11 of issue 20. Outside `production`, GitHub's auto_inactive (on by default) adds an
// `inactive` status to the earlier deployments of the environment when a new one succeeds: the
// deployment the environment ran until now reads `inactive` by the time the new one is watched.
describe('the last deployment that ran, in an environment not named production', () => {
  const staging = (statuses: { state: string; description?: string }[]) =>
    api()
      .get(`${R}/deployments`)
      .query({ environment: 'staging', per_page: 10 })
      .reply(200, [
        { id: 52, sha: HEAD, environment: 'staging' },
        { id: 51, sha: BASE, environment: 'staging' },
      ])
      .get(`${R}/deployments/51/statuses`)
      .query({ per_page: 1 })
      .reply(200, statuses.slice(0, 1))
      .get(`${R}/deployments/51/statuses`)
      .query({ per_page: 100 })
      .reply(200, statuses);

  it('a deployment GitHub made inactive after it succeeded ran: it is the base of the next', async () => {
    const { gh } = testOctokit();
    staging([{ state: 'inactive' }, { state: 'success' }, { state: 'in_progress' }]);
    expect(await fetchLastSuccessfulDeployment(gh, REPO, 'staging', { excludeId: 52 })).toEqual({
      id: 51,
      sha: BASE,
    });
  });

  it('the deploy to staging is judged since that deployment, not on its head commit alone', async () => {
    const { gh } = testOctokit();
    staging([{ state: 'inactive' }, { state: 'success' }])
      .get(`${R}/compare/${BASE}...${HEAD}`)
      .reply(200, {
        status: 'ahead',
        ahead_by: 1,
        behind_by: 0,
        total_commits: 1,
        commits: [commit(HEAD, [BASE])],
        files: [{ filename: 'prompts/refund.md', status: 'modified' }],
      });
    const d = await fetchDeployDiff(gh, REPO, {
      environment: 'staging',
      head: HEAD,
      currentDeploymentId: 52,
    });
    expect(d).toMatchObject({ base: BASE, base_source: 'deployment', base_deployment_id: 51 });
    expect(d.files).toEqual(['prompts/refund.md']);
    expect(d.warnings).toEqual([]);
  });

  it('inactive over the bot’s failure (a deployment it reverted) did not run well: it is skipped', async () => {
    const { gh } = testOctokit();
    staging([
      { state: 'inactive' },
      { state: 'failure', description: 'budget-gate: reverted in #43: burned 1.4%' },
      { state: 'success' },
    ]);
    expect(await fetchLastSuccessfulDeployment(gh, REPO, 'staging', { excludeId: 52 })).toBeNull();
  });

  it('a deployment only ever marked inactive never ran', async () => {
    const { gh } = testOctokit();
    staging([{ state: 'inactive' }, { state: 'queued' }]);
    expect(await fetchLastSuccessfulDeployment(gh, REPO, 'staging', { excludeId: 52 })).toBeNull();
  });
});

// Attempt 5 of issue 20: GitHub's compare lists the files from the merge base to the head, which
// for a head behind the base is none. The deploy is judged on the other direction's files.
describe('a deploy that goes backwards', () => {
  it('is judged on the files between what runs and the target, listed by head...base', async () => {
    const { gh } = testOctokit();
    lastDeployment()
      .get(`${R}/compare/${BASE}...${HEAD}`)
      .reply(200, { status: 'behind', ahead_by: 0, behind_by: 2, total_commits: 0, commits: [], files: [] })
      .get(`${R}/compare/${HEAD}...${BASE}`)
      .reply(200, {
        status: 'ahead',
        ahead_by: 2,
        behind_by: 0,
        total_commits: 2,
        commits: [commit(sha(1), [HEAD]), commit(BASE, [sha(1)])],
        files: [{ filename: 'prompts/refund.md', status: 'modified' }],
      });
    const d = await fetchDeployDiff(gh, REPO, { environment: 'production', head: HEAD });
    expect(d).toMatchObject({ rollback: true, files: ['prompts/refund.md'], commits: [], mainline: [] });
    expect(d.warnings).toEqual([
      'hhhhhhh is 2 commit(s) behind bbbbbbb, which the environment runs: this deploy goes backwards and is judged on the 1 file(s) it changes back',
    ]);
  });

  it('a diverged deploy is judged on both sides of the merge base', async () => {
    const { gh } = testOctokit();
    lastDeployment()
      .get(`${R}/compare/${BASE}...${HEAD}`)
      .reply(200, {
        status: 'diverged',
        ahead_by: 1,
        behind_by: 1,
        total_commits: 1,
        commits: [commit(HEAD, [MERGE_BASE])],
        files: [{ filename: 'src/ui/banner.tsx', status: 'modified' }],
        merge_base_commit: { sha: MERGE_BASE },
      })
      .get(`${R}/compare/${HEAD}...${BASE}`)
      .reply(200, {
        status: 'diverged',
        ahead_by: 1,
        behind_by: 1,
        total_commits: 1,
        commits: [commit(BASE, [MERGE_BASE])],
        files: [{ filename: 'prompts/refund.md', status: 'modified' }],
        merge_base_commit: { sha: MERGE_BASE },
      });
    const d = await fetchDeployDiff(gh, REPO, { environment: 'production', head: HEAD });
    expect(d.rollback).toBe(false);
    expect(d.files.sort()).toEqual(['prompts/refund.md', 'src/ui/banner.tsx']);
    expect(d.commits.map((c) => c.sha)).toEqual([HEAD]);
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

// Attempt 13 of issue 20: in a repository whose recursive tree is too large to list, the revert
// reads each missing path's blob sha from the Contents API. For a file over 1 MB GitHub refuses the
// default media type with 403 too_large; the `object` media type answers (content "", encoding
// "none") with the sha the revert needs.
describe('planRevertCommit in a repository too large to list, with a file over 1 MB', () => {
  const TOO_LARGE = {
    message:
      'This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the API, but you can use the Git Data API to request blobs up to 100 MB in size.',
    errors: [{ resource: 'Blob', field: 'data', code: 'too_large' }],
    documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content',
  };

  it('restores the large file by its blob sha, read with the object media type', async () => {
    const { gh } = testOctokit();
    const PREV = 'p'.repeat(40);
    const BIG = 'models/embeddings.bin';
    const BIG_SHA = 'e'.repeat(40);
    api()
      .get(`${R}/compare/${PREV}...${HEAD}`)
      .reply(200, {
        status: 'ahead',
        total_commits: 1,
        files: [{ filename: BIG, status: 'modified' }],
        merge_base_commit: { sha: PREV },
      })
      .get(`${R}/branches/main`)
      .reply(200, { commit: { sha: HEAD, commit: { tree: { sha: 'tip-tree' } } } })
      .get(`${R}/git/trees/${PREV}`)
      .query({ recursive: '1' })
      .reply(200, tree({ 'README.md': 'r1' }, true))
      .get(`${R}/contents/${encodeURIComponent(BIG)}`)
      .query({ ref: PREV })
      .matchHeader('accept', (v) => !v?.includes('object'))
      .optionally()
      .reply(403, TOO_LARGE)
      .get(`${R}/contents/${encodeURIComponent(BIG)}`)
      .query({ ref: PREV })
      .matchHeader('accept', 'application/vnd.github.object+json')
      .reply(200, {
        type: 'file',
        encoding: 'none',
        size: 4_718_592,
        name: 'embeddings.bin',
        path: BIG,
        content: '',
        sha: BIG_SHA,
        url: `https://api.github.com${R}/contents/${BIG}?ref=${PREV}`,
        git_url: `https://api.github.com${R}/git/blobs/${BIG_SHA}`,
        html_url: `https://github.com/acme/agents/blob/${PREV}/${BIG}`,
        download_url: `https://raw.githubusercontent.com/acme/agents/${PREV}/${BIG}`,
        _links: {
          self: `https://api.github.com${R}/contents/${BIG}?ref=${PREV}`,
          git: `https://api.github.com${R}/git/blobs/${BIG_SHA}`,
          html: `https://github.com/acme/agents/blob/${PREV}/${BIG}`,
        },
      });
    const plan = await planRevertCommit(gh, REPO, { previous: PREV, deployed: HEAD, branch: 'main' });
    expect(plan.entries).toEqual([{ path: BIG, mode: '100644', type: 'blob', sha: BIG_SHA }]);
    expect(plan.conflicts).toEqual([]);
  });
});
