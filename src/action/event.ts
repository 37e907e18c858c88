import type { z } from 'zod';
import type { DeployEvent, GateEvent, PullRequestEvent } from '../github/gate-event.ts';
import {
  deploymentPayload,
  PayloadError,
  parsePayload,
  pullRequestPayload,
  pushPayload,
  repoOf,
} from '../github/webhook-payloads.ts';

export type { DeployEvent, GateEvent, PullRequestEvent };

// The workflow's triggering event, reduced to what the gate needs (the payload schemas are shared
// with the bot: src/github/webhook-payloads.ts).

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

function parse<T extends z.ZodType>(schema: T, payload: unknown, eventName: string): z.output<T> {
  try {
    return parsePayload(schema, payload, eventName);
  } catch (e) {
    if (!(e instanceof PayloadError)) throw e;
    throw new EventError(`${e.message}: is the action running on the event it was written for?`);
  }
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
      author_type: pr.user?.type ?? null,
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
