import type { PolicyChange } from '../policy/gate/change.ts';
import type { LoadedPolicy } from '../policy/spec/load.ts';
import { loosenings } from '../policy/spec/loosening.ts';
import type { DeployDiff } from './deploy-diff.ts';
import type { DeployEvent } from './gate-event.ts';
import { type Gathered, gatherChange } from './gather-change.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';
import { type PolicyLookup, policyAt } from './policy-file.ts';

// Which policy judges a change: one the change cannot edit. A pull request is judged by the
// policy at its base sha; a deploy by the policy of what the environment runs now (the base its
// diff is taken from: the last successful deployment, else the push's `before`, else — a first
// deploy — the deployed commit's first parent). Never the change's own copy, and never the
// default branch, which on a push-to-main deploy is the change itself.

export type InForceSource = 'base' | 'deployment' | 'push' | 'parent';

export interface PolicyInForce {
  lookup: PolicyLookup;
  /** The sha it was read at; null when there is nothing before the change (a root commit). */
  at: string | null;
  source: InForceSource;
}

/** Where the policy of what an environment runs now lives, given the deploy's diff. */
function deployBase(diff: DeployDiff): { sha: string | null; source: InForceSource } {
  if (diff.base) return { sha: diff.base, source: diff.base_source === 'push' ? 'push' : 'deployment' };
  // A first deploy: nothing runs yet, so the commit before the deployed one stands in.
  const head = diff.commits.find((c) => c.sha === diff.head) ?? diff.commits.at(-1);
  return { sha: head?.parents[0] ?? null, source: 'parent' };
}

export async function readPolicyInForce(
  gh: GitHubClient,
  repo: RepoRef,
  path: string,
  at: string | null,
  source: InForceSource,
): Promise<PolicyInForce> {
  if (at === null) return { lookup: { kind: 'none' }, at, source };
  return { lookup: await policyAt(gh, repo, path, at), at, source };
}

/** A deploy's diff (what it ships), and the policy at its base: what the environment runs now. */
export async function deployPolicyInForce(
  gh: GitHubClient,
  event: DeployEvent,
  environment: string,
  path: string,
): Promise<{ inForce: PolicyInForce; first: Gathered }> {
  const first = await gatherChange(gh, event, environment);
  const base = deployBase(first.diff!);
  const inForce = await readPolicyInForce(gh, event.repo, repoPath(path), base.sha, base.source);
  return { inForce, first };
}

export const describeInForce = (p: { at: string | null; source: InForceSource }): string => {
  const sha = p.at ? p.at.slice(0, 7) : '(none)';
  switch (p.source) {
    case 'base':
      return `the pull request's base ${sha}`;
    case 'deployment':
      return `${sha}, what the environment runs now`;
    case 'push':
      return `${sha}, the push's before`;
    case 'parent':
      return `${sha}, the deployed commit's parent (nothing was deployed before)`;
  }
};

/** `./.github/x.yml` and `.github/x.yml` name the same file in a diff. */
export const repoPath = (path: string): string => path.replace(/^(\.\/)+/, '');

/**
 * When the change touches the policy file: what its copy (read at the change's head through the
 * API, never from a checkout) loosens against the policy in force. Costs one request, and only
 * then.
 */
export async function readPolicyChange(
  gh: GitHubClient,
  repo: RepoRef,
  input: {
    path: string;
    inForce: LoadedPolicy;
    inForceAt: string | null;
    head: string;
    files: readonly string[];
  },
): Promise<PolicyChange | null> {
  const path = repoPath(input.path);
  if (!input.files.includes(path)) return null;
  const theirs = await policyAt(gh, repo, path, input.head);
  const proposed =
    theirs.kind === 'ok'
      ? ({ kind: 'ok', policy: theirs.loaded.policy } as const)
      : theirs.kind === 'none'
        ? ({ kind: 'deleted' } as const)
        : ({ kind: 'invalid', message: theirs.message } as const);
  return { path, in_force_at: input.inForceAt, loosens: loosenings(input.inForce.policy, proposed) };
}

/** The first parent of `sha`: what stands in for "what runs now" before an environment's first deploy. */
export async function firstParentOf(gh: GitHubClient, repo: RepoRef, sha: string): Promise<string | null> {
  const res = await gh.request('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', {
    ...repo,
    commit_sha: sha,
  });
  return res.data.parents[0]?.sha ?? null;
}

export type WatchPolicy =
  | { kind: 'ok'; loaded: LoadedPolicy; text: string; note: string | null }
  | { kind: 'none'; why: string }
  | { kind: 'invalid'; message: string };

/**
 * The policy a deployment is watched under: the policy in force before it (what the environment
 * ran), unless the deployed copy is provably at least as strict — then that one, since it is what
 * runs now and can only watch harder. A deploy that turns auto-revert off, shrinks `environments`
 * or deletes the file is still watched under the policy it could not edit.
 */
export async function watchPolicy(
  gh: GitHubClient,
  repo: RepoRef,
  path: string,
  input: { deployed: string; inForce: string | null; inForceSource: InForceSource },
): Promise<WatchPolicy> {
  const [before, deployed] = await Promise.all([
    readPolicyInForce(gh, repo, path, input.inForce, input.inForceSource),
    policyAt(gh, repo, path, input.deployed),
  ]);
  const where = describeInForce(before);
  const b = before.lookup;
  if (b.kind === 'ok') {
    if (deployed.kind !== 'ok') {
      const what = deployed.kind === 'none' ? 'deletes it' : `makes it invalid (${deployed.message})`;
      return {
        kind: 'ok',
        loaded: b.loaded,
        text: b.text,
        note: `the deploy ${what}: watched under the policy at ${where}`,
      };
    }
    const loose = loosenings(b.loaded.policy, { kind: 'ok', policy: deployed.loaded.policy });
    if (loose.length === 0) return { kind: 'ok', loaded: deployed.loaded, text: deployed.text, note: null };
    return {
      kind: 'ok',
      loaded: b.loaded,
      text: b.text,
      note: `the deploy loosens the policy (${loose.map((l) => `${l.key} ${l.from} → ${l.to}`).join('; ')}): watched under the policy at ${where}`,
    };
  }
  // Nothing (readable) was in force: the deploy's own copy is all there is.
  if (deployed.kind === 'ok')
    return {
      kind: 'ok',
      loaded: deployed.loaded,
      text: deployed.text,
      note:
        b.kind === 'invalid'
          ? `the policy at ${where} is invalid (${b.message}): watched under the deployed copy`
          : null,
    };
  if (deployed.kind === 'invalid') return { kind: 'invalid', message: deployed.message };
  return { kind: 'none', why: `no ${path} at ${where} nor at the deployed ${input.deployed.slice(0, 7)}` };
}
