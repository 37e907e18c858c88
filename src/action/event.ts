import { isUtf8 } from 'node:buffer';
import { readFileSync, statSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { z } from 'zod';
import { isClassifiedRefusal } from '../github/errors.ts';
import type { GateEvent } from '../github/gate-event.ts';
import {
  deploymentPayload,
  PayloadError,
  parsePayload,
  pullRequestPayload,
  pushPayload,
  repoOf,
} from '../github/webhook-payloads.ts';
import { networkWhy } from '../net/capped-fetch.ts';
import { cleanText } from '../net/clean-text.ts';

export type { GateEvent };

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
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    throw new EventError(
      `the ${eventName} event payload is not a JSON object: is GITHUB_EVENT_PATH the event file?`,
    );
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
      base_sha: pr.base.sha,
      head_repo: pr.head.repo ? repoOf(pr.head.repo) : null,
      base_ref: pr.base.ref,
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

/** Event payloads GitHub writes are well under this; a larger file is not one of them. */
const MAX_EVENT_BYTES = 64 << 20;

/**
 * The workflow event file (GITHUB_EVENT_PATH), parsed. Each way it can be wrong gets its own
 * message: missing, a directory, empty, too big, not UTF-8, truncated JSON. A BOM is skipped.
 */
export function readEventFile(path: string): unknown {
  let bytes: Buffer;
  try {
    const info = statSync(path);
    if (info.isDirectory())
      throw new EventError(`GITHUB_EVENT_PATH ${path} is a directory: it must name the event's JSON file`);
    if (info.size > MAX_EVENT_BYTES)
      throw new EventError(`GITHUB_EVENT_PATH ${path} is ${info.size} bytes: not an event GitHub wrote`);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof EventError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new EventError(
      `cannot read the event file GITHUB_EVENT_PATH ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`,
    );
  }
  if (!isUtf8(bytes)) throw new EventError(`the event file ${path} is not UTF-8 text`);
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new EventError(`the event file ${path} is empty: expected the event's JSON`);
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = (e as Error).message.split('\n')[0]!.slice(0, 200);
    throw new EventError(`the event file ${path} is not valid JSON (truncated?): ${why}`);
  }
}

/** GitHub hides what a token may not see behind a 404: the permission that would reveal each call. */
const PERMISSION_FOR: Array<[RegExp, string]> = [
  [/\/check-runs/, 'checks: write'],
  [/\/deployments|\/deployment_statuses|\/environments/, 'deployments: read'],
  [/\/pulls|\/commits\/[^/]+\/pulls/, 'pull-requests: read'],
  [/\/issues|\/labels/, 'issues: read'],
  [/\/teams|\/orgs\//, 'members: read (a GitHub App or a token with read:org)'],
  [/\/compare\/|\/commits|\/git\/|\/contents\//, 'contents: read'],
];

interface OctokitError {
  status: number;
  message: string;
  request?: { method?: string; url?: string };
  /** Absent when no answer came. */
  response?: unknown;
  cause?: unknown;
}

const isOctokitError = (e: unknown): e is OctokitError =>
  typeof e === 'object' &&
  e !== null &&
  typeof (e as { status?: unknown }).status === 'number' &&
  typeof (e as { message?: unknown }).message === 'string';

/**
 * A failure no step named, as one line for the job log and the step's status: a GitHub refusal
 * names the request and the permission that would allow it; anything else is a bug to report.
 */
export function describeFailure(e: unknown): string {
  // Classified by the Octokit's `refusals` hook: the message already names the call and the fix.
  if (isClassifiedRefusal(e)) return e.message;
  if (isOctokitError(e)) {
    const where = e.request?.url ? new URL(e.request.url, 'https://api.github.com') : null;
    const url = where ? where.pathname : '(unknown request)';
    const call = `${e.request?.method ?? 'GET'} ${url}`;
    // Octokit reports a request that got no answer (refused, reset, timed out, or too large to
    // read) as a 500 without a response: said as what it is, never as GitHub's answer.
    if (!e.response) {
      return `no usable answer from GitHub at ${where?.host ?? 'api.github.com'} to ${call} (${networkWhy(e.cause ?? e)}): check GITHUB_API_URL, the runner's network and proxy (HTTPS_PROXY), and https://www.githubstatus.com`;
    }
    // A 5xx from GitHub's front end is an HTML page: its status line says more than its markup.
    const firstLine = /^\s*</.test(e.message)
      ? (STATUS_CODES[e.status] ?? 'an HTML error page')
      : cleanText(e.message.split('\n')[0]!, 200);
    const permission = PERMISSION_FOR.find(([re]) => re.test(url))?.[1];
    if (e.status === 404) {
      return `GitHub answered 404 to ${call} (${firstLine}): the commit, deployment or repository is not there, or the token cannot see it${permission ? `: grant \`${permission}\` under \`permissions:\`` : ''}`;
    }
    if (e.status === 500 && (e as { response?: unknown }).response === undefined)
      return `could not reach GitHub for ${call} (${firstLine}), again after retries: the runner's network, or a proxy (HTTPS_PROXY, NO_PROXY), is in the way`;
    if (e.status >= 500)
      return `GitHub answered ${e.status} to ${call} (${firstLine}), again after retries: GitHub failed, not the workflow; re-run the job (https://www.githubstatus.com says whether GitHub is degraded)`;
    return `GitHub answered ${e.status} to ${call} (${firstLine})${permission ? `: the token may need \`${permission}\`` : ''}`;
  }
  const what = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
  return `budget-gate failed unexpectedly (${what.slice(0, 300)}): please report this, with the workflow run's log`;
}
