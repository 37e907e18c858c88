import type { RepoRef } from './octokit.ts';

// The change a gate decision is about, as the Action (from the workflow's event) and the bot (from
// a deployment protection rule) both describe it to gatherChange.

export interface PullRequestEvent {
  kind: 'pull_request';
  repo: RepoRef;
  number: number;
  title: string;
  author: string | null;
  /** `User` or `Bot`: GitHub's word on who opened it. */
  author_type: string | null;
  labels: string[];
  head_sha: string;
  head_ref: string;
  /** The base branch's sha when the event was sent: the policy there judges the pull request. */
  base_sha: string;
  /** Where the head branch lives: a fork for outside contributions, null when it was deleted. */
  head_repo: RepoRef | null;
  /** The branch it merges into. */
  base_ref: string;
}

export interface DeployEvent {
  kind: 'deploy';
  event: 'push' | 'workflow_dispatch' | 'deployment';
  repo: RepoRef;
  head_sha: string;
  /** The push's `before`: the fallback base when the environment has no deployment history. */
  before: string | null;
  environment: string | null;
  deployment_id: number | null;
}

export type GateEvent = PullRequestEvent | DeployEvent;
