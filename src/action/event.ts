import { z } from 'zod';
import type { DeployEvent, GateEvent, PullRequestEvent } from '../github/gate-event.ts';
import type { RepoRef } from '../github/octokit.ts';

export type { DeployEvent, GateEvent, PullRequestEvent };

// The workflow's triggering event, reduced to what the gate needs. Only the fields read here are
// validated, so GitHub adding fields never breaks the action, and a payload missing one names it.

const user = z.object({ login: z.string() });
const repoSchema = z.object({ name: z.string(), owner: user, default_branch: z.string().optional() });

const pullRequestPayload = z.object({
  pull_request: z.object({
    number: z.number().int(),
    title: z.string(),
    user: user.nullable(),
    labels: z.array(z.object({ name: z.string() })).default([]),
    head: z.object({ sha: z.string(), ref: z.string(), repo: repoSchema.nullable() }),
  }),
  repository: repoSchema,
});

const pushPayload = z.object({
  after: z.string(),
  before: z.string().nullable().optional(),
  ref: z.string(),
  head_commit: z.object({ message: z.string() }).nullable().optional(),
  repository: repoSchema,
});

const deploymentPayload = z.object({
  deployment: z.object({
    id: z.number().int(),
    sha: z.string(),
    ref: z.string(),
    environment: z.string(),
    creator: user.nullable().optional(),
  }),
  repository: repoSchema,
});

export interface EventContext {
  eventName: string;
  payload: unknown;
  /** GITHUB_REPOSITORY */
  repository: string;
  /** GITHUB_SHA */
  sha: string;
}

export class EventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventError';
  }
}

const repoOf = (r: z.infer<typeof repoSchema>): RepoRef => ({ owner: r.owner.login, repo: r.name });

function parse<T extends z.ZodType>(schema: T, payload: unknown, eventName: string): z.output<T> {
  const res = schema.safeParse(payload);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    throw new EventError(
      `the ${eventName} event payload has no usable \`${issue.path.join('.')}\` (${issue.message}): ` +
        'is the action running on the event it was written for?',
    );
  }
  return res.data;
}

export function readEvent(ctx: EventContext): GateEvent {
  const { eventName } = ctx;
  if (eventName === 'pull_request' || eventName === 'pull_request_target') {
    const p = parse(pullRequestPayload, ctx.payload, eventName);
    const pr = p.pull_request;
    return {
      kind: 'pull_request',
      repo: repoOf(p.repository),
      number: pr.number,
      title: pr.title,
      author: pr.user?.login ?? null,
      labels: pr.labels.map((l) => l.name),
      head_sha: pr.head.sha,
      head_ref: pr.head.ref,
      head_repo: pr.head.repo ? repoOf(pr.head.repo) : null,
    };
  }
  if (eventName === 'push') {
    const p = parse(pushPayload, ctx.payload, eventName);
    return {
      kind: 'deploy',
      event: 'push',
      repo: repoOf(p.repository),
      head_sha: p.after,
      before: p.before ?? null,
      environment: null,
      deployment_id: null,
    };
  }
  if (eventName === 'deployment') {
    const p = parse(deploymentPayload, ctx.payload, eventName);
    return {
      kind: 'deploy',
      event: 'deployment',
      repo: repoOf(p.repository),
      head_sha: p.deployment.sha,
      before: null,
      environment: p.deployment.environment,
      deployment_id: p.deployment.id,
    };
  }
  if (eventName === 'workflow_dispatch') {
    const [owner, repo] = ctx.repository.split('/');
    if (!owner || !repo)
      throw new EventError(`GITHUB_REPOSITORY is "${ctx.repository}", expected owner/name`);
    return {
      kind: 'deploy',
      event: 'workflow_dispatch',
      repo: { owner, repo },
      head_sha: ctx.sha,
      before: null,
      environment: null,
      deployment_id: null,
    };
  }
  throw new EventError(
    `budget-gate does not gate \`${eventName}\` events: run it on pull_request, pull_request_target, push, ` +
      'workflow_dispatch or deployment',
  );
}
