import type { Octokit } from '@octokit/core';
import { RequestError } from '@octokit/request-error';
import type { Endpoints } from '@octokit/types';
import { cleanText } from '../net/clean-text.ts';

// Turns GitHub's refusals into errors a person can fix, classified by what GitHub said (status,
// body, rate-limit headers) rather than by status alone: a 403 can be a missing permission, a
// rate limit, a protected branch or a file too large for the endpoint, and each needs another fix.

export { RequestError };

const isRequestError = (e: unknown): e is RequestError => e instanceof RequestError;

/** The HTTP status GitHub answered: of a RequestError, or of one of the classified errors below. */
export function statusOf(e: unknown): number | null {
  if (e instanceof RequestError) return e.status;
  if (
    e instanceof GitHubPermissionError ||
    e instanceof GitHubProtectedBranchError ||
    e instanceof GitHubRateLimitError
  ) {
    return e.status;
  }
  return null;
}

/** GitHub answered with a refusal or a failure (any status, network errors included), not a bug of ours. */
export const isGitHubFailure = (e: unknown): boolean => statusOf(e) !== null;

/** GitHub's error body: `{message, errors?: [{resource, field, code}], documentation_url}`. */
interface GitHubErrorBody {
  message?: string;
  errors?: Array<{ resource?: string; field?: string; code?: string; message?: string } | string>;
  documentation_url?: string;
}

function bodyOf(e: RequestError): GitHubErrorBody {
  const data = e.response?.data;
  return data && typeof data === 'object' ? (data as GitHubErrorBody) : {};
}

/** The `code` of GitHub's first structured error (`too_large`, `custom`, `already_exists`, …). */
function errorCode(e: RequestError): string | null {
  const first = bodyOf(e).errors?.[0];
  return first && typeof first === 'object' ? (first.code ?? null) : null;
}

export type Refusal = 'rate-limit' | 'protected-branch' | 'too-large' | 'permission' | 'not-found' | 'other';

const header = (e: RequestError, name: string): string | undefined => {
  const v = e.response?.headers?.[name];
  return v === undefined || v === null ? undefined : String(v);
};

/** What GitHub meant by this refusal. */
function classify(e: RequestError): Refusal {
  const message = bodyOf(e).message ?? e.message;
  if (
    e.status === 429 ||
    (e.status === 403 && (header(e, 'x-ratelimit-remaining') === '0' || /rate limit/i.test(message)))
  ) {
    return 'rate-limit';
  }
  if (
    [403, 409, 422].includes(e.status) &&
    /protected branch|repository rule violations|changes must be made through a pull request/i.test(message)
  ) {
    return 'protected-branch';
  }
  if (e.status === 403 && errorCode(e) === 'too_large') return 'too-large';
  if (e.status === 403) return 'permission';
  if (e.status === 404) return 'not-found';
  return 'other';
}

/**
 * A 403 that means "this token may not see it" — not a rate limit, a branch rule or a size limit,
 * which must not pass for a missing permission and be quietly worked around.
 */
export const isAccessDenied = (e: unknown): boolean =>
  (e instanceof GitHubPermissionError && !(e instanceof GitHubNotFoundError)) ||
  (isRequestError(e) && e.status === 403 && classify(e) === 'permission');

/** A refusal already classified (the `refusals` hook's): its message says what to do. */
export const isClassifiedRefusal = (e: unknown): e is Error & { status: number; call: string } =>
  e instanceof GitHubCallError;

/** One REST call GitHub refused: which call, its status, and (in the message) what to do. */
class GitHubCallError extends Error {
  readonly status: number;
  readonly call: string;
  constructor(call: string, status: number, message: string) {
    super(message);
    this.name = 'GitHubCallError';
    this.status = status;
    this.call = call;
  }
}

/** A call GitHub refused for lack of a permission; `permission` is what to grant, e.g. `checks: write`. */
export class GitHubPermissionError extends GitHubCallError {
  readonly permission: string;
  constructor(call: string, status: number, permission: string, detail: string, message?: string) {
    super(
      call,
      status,
      message ??
        `GitHub refused ${call} (${status} ${detail}): the token needs \`${permission}\`. ` +
          `Add it under \`permissions:\` in the workflow job (or grant it to the GitHub App).`,
    );
    this.name = 'GitHubPermissionError';
    this.permission = permission;
  }
}

/**
 * A 404 where GitHub hides what the token may not see: the resource is missing, or the token
 * lacks the permission that would reveal it. Both are named.
 */
export class GitHubNotFoundError extends GitHubPermissionError {
  readonly resource: string;
  constructor(call: string, resource: string, permission: string) {
    super(
      call,
      404,
      permission,
      'Not Found',
      `GitHub answered 404 for ${call}: ${resource} does not exist, or the token cannot see it ` +
        `(GitHub answers 404, not 403, to a token without \`${permission}\`). Check that it exists, ` +
        'then grant the permission under `permissions:` in the workflow job (or to the GitHub App).',
    );
    this.name = 'GitHubNotFoundError';
    this.resource = resource;
  }
}

/** Still rate-limited after plugin-throttling's retries: wait for the reset, granting nothing helps. */
export class GitHubRateLimitError extends GitHubCallError {
  /** When the limit resets (epoch ms), from `x-ratelimit-reset` or `retry-after`; null when GitHub did not say. */
  readonly resetAt: number | null;
  constructor(call: string, status: number, resetAt: number | null, detail: string) {
    const when = resetAt === null ? 'in a few minutes' : `after ${new Date(resetAt).toISOString()}`;
    super(
      call,
      status,
      `GitHub's rate limit refused ${call} (${status} ${detail}) after retries: run it again ${when}. ` +
        'This is not a missing permission.',
    );
    this.name = 'GitHubRateLimitError';
    this.resetAt = resetAt;
  }
}

/** A branch protection rule or ruleset refused the write: the token's permissions are not the problem. */
export class GitHubProtectedBranchError extends GitHubCallError {
  constructor(call: string, status: number, detail: string) {
    super(
      call,
      status,
      `GitHub refused ${call}: a branch protection rule or ruleset forbids it (${status} ${detail}). ` +
        'Let the token bypass the rule for this branch (or use a branch the rule does not cover); ' +
        'more permissions will not help.',
    );
    this.name = 'GitHubProtectedBranchError';
  }
}

function resetOf(e: RequestError): number | null {
  const reset = Number(header(e, 'x-ratelimit-reset'));
  if (Number.isFinite(reset) && reset > 0) return reset * 1000;
  const after = Number(header(e, 'retry-after'));
  const date = Date.parse(header(e, 'date') ?? '');
  return Number.isFinite(after) && after > 0 && !Number.isNaN(date) ? date + after * 1000 : null;
}

// ---------------------------------------------------------------------------------------------
// Which permission each call needs: one table, read by an Octokit error hook, so call sites call
// Octokit directly and a refusal still says what to grant. Checked against GitHub's REST
// description (@octokit/openapi: every route exists as written) and GitHub's "Permissions required
// for GitHub Apps" (the permission named). A route not in the table is passed through unchanged:
// its caller handles GitHub's answer itself (labels.ts, changes.ts' activity).

type Params = Readonly<Record<string, unknown>>;

interface RouteNeed {
  /** What to grant, as a workflow's `permissions:` names it. */
  permission: string;
  /**
   * GitHub answers 404, not 403, to a token that may not see the resource: what that resource is,
   * in words. A 404 then becomes a GitHubNotFoundError naming it; without, the 404 is passed through
   * (a caller may expect it: a file not there yet).
   */
  hidden?: (p: Params) => string;
}

const CONTENTS_READ: RouteNeed = { permission: 'contents: read' };
const CONTENTS_WRITE: RouteNeed = { permission: 'contents: write' };
const PULLS_READ: RouteNeed = { permission: 'pull-requests: read' };
const PULLS_WRITE: RouteNeed = { permission: 'pull-requests: write' };
const ISSUES_READ: RouteNeed = { permission: 'issues: read' };
const ISSUES_WRITE: RouteNeed = { permission: 'issues: write' };
const DEPLOYMENTS_READ: RouteNeed = { permission: 'deployments: read' };
const DEPLOYMENTS_WRITE: RouteNeed = { permission: 'deployments: write' };
const CHECKS_READ: RouteNeed = { permission: 'checks: read' };
const CHECKS_WRITE: RouteNeed = { permission: 'checks: write' };
const repoOf = (p: Params) => `${p.owner}/${p.repo}`;

/** `METHOD /route` → what a refusal of it needs. Typed by Octokit's routes: a misspelt one does not compile. */
const ROUTE_NEEDS: Readonly<Partial<Record<keyof Endpoints, RouteNeed>>> = {
  'GET /repos/{owner}/{repo}/branches/{branch}': CONTENTS_READ,
  'GET /repos/{owner}/{repo}/commits/{ref}': CONTENTS_READ,
  'GET /repos/{owner}/{repo}/compare/{basehead}': CONTENTS_READ,
  'GET /repos/{owner}/{repo}/contents/{path}': CONTENTS_READ,
  'PUT /repos/{owner}/{repo}/contents/{path}': CONTENTS_WRITE,
  'GET /repos/{owner}/{repo}/git/blobs/{file_sha}': CONTENTS_READ,
  'GET /repos/{owner}/{repo}/git/commits/{commit_sha}': CONTENTS_READ,
  'POST /repos/{owner}/{repo}/git/commits': CONTENTS_WRITE,
  'POST /repos/{owner}/{repo}/git/refs': CONTENTS_WRITE,
  'GET /repos/{owner}/{repo}/git/trees/{tree_sha}': {
    ...CONTENTS_READ,
    hidden: (p) => `commit ${String(p.tree_sha).slice(0, 7)}`,
  },
  'POST /repos/{owner}/{repo}/git/trees': CONTENTS_WRITE,
  'GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls': PULLS_READ,
  'GET /repos/{owner}/{repo}/pulls': PULLS_READ,
  'POST /repos/{owner}/{repo}/pulls': { ...PULLS_WRITE, hidden: (p) => `the repository ${repoOf(p)}` },
  'GET /repos/{owner}/{repo}/pulls/{pull_number}': PULLS_READ,
  'GET /repos/{owner}/{repo}/pulls/{pull_number}/commits': PULLS_READ,
  'GET /repos/{owner}/{repo}/pulls/{pull_number}/files': PULLS_READ,
  'POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers': PULLS_WRITE,
  'GET /repos/{owner}/{repo}/issues/{issue_number}/comments': ISSUES_READ,
  'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': {
    ...ISSUES_WRITE,
    hidden: (p) => `pull request #${p.issue_number} in ${repoOf(p)}`,
  },
  'GET /repos/{owner}/{repo}/issues/{issue_number}/events': ISSUES_READ,
  'POST /repos/{owner}/{repo}/issues/{issue_number}/labels': ISSUES_WRITE,
  'DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}': ISSUES_WRITE,
  'GET /repos/{owner}/{repo}/deployments': DEPLOYMENTS_READ,
  'GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses': DEPLOYMENTS_READ,
  'POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses': DEPLOYMENTS_WRITE,
  // Called through the callback URL GitHub sends with the deployment_protection_rule event.
  'POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule': DEPLOYMENTS_WRITE,
  'GET /repos/{owner}/{repo}/commits/{ref}/check-runs': CHECKS_READ,
  'POST /repos/{owner}/{repo}/check-runs': CHECKS_WRITE,
  'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}': CHECKS_WRITE,
};

/** GraphQL is one route: the permission depends on the operation, its first field. */
const GRAPHQL_NEEDS: Readonly<Record<string, RouteNeed>> = {
  enablePullRequestAutoMerge: PULLS_WRITE,
};

/** What Octokit's `request` hook is given: the route (or a whole URL) and the parameters. */
interface RequestOptions {
  method: string;
  url: string;
  baseUrl?: string;
  [parameter: string]: unknown;
}

// Routes called by a URL GitHub sent (a callback URL), matched by their shape.
const SHAPES = Object.entries(ROUTE_NEEDS).map(([route, need]) => {
  const [method, path] = route.split(' ') as [string, string];
  return { need: need!, method, re: new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`) };
});

/** The route called, its need, and the call as sent (`POST /repos/acme/agents/pulls/7/...`), or null. */
function callOf(o: RequestOptions): { call: string; need: RouteNeed } | null {
  const method = o.method.toUpperCase();
  if (o.url === '/graphql') {
    const operation = /\{\s*(\w+)/.exec(String(o.query ?? ''))?.[1] ?? '';
    const need = GRAPHQL_NEEDS[operation];
    return need ? { call: `POST /graphql ${operation}`, need } : null;
  }
  if (o.url.includes('{')) {
    const need = ROUTE_NEEDS[`${method} ${o.url}` as keyof Endpoints];
    const call = o.url.replace(/\{(\w+)\}/g, (whole, k: string) => (k in o ? String(o[k]) : whole));
    return need ? { call: `${method} ${call}`, need } : null;
  }
  const base = (o.baseUrl ?? '').replace(/\/+$/, '');
  const path = (
    base && o.url.startsWith(base) ? o.url.slice(base.length) : new URL(o.url, 'https://x').pathname
  ).split('?')[0]!;
  const shape = SHAPES.find((s) => s.method === method && s.re.test(path));
  return shape ? { call: `${method} ${path}`, need: shape.need } : null;
}

/**
 * The error a refusal of this request stands for: a rate limit (after plugin-throttling's
 * retries), a protected branch, a missing permission (the route's, from ROUTE_NEEDS), or a 404
 * naming the resource and the permission that would reveal it. Anything else is returned as is.
 */
function refusalOf(e: unknown, options: RequestOptions): unknown {
  if (!(e instanceof RequestError)) return e;
  const found = callOf(options);
  return found ? refusal(e, found.need.permission, found.call, found.need.hidden?.(options)) : e;
}

/**
 * The Octokit plugin that classifies every refusal of a route in ROUTE_NEEDS. Registered after
 * plugin-retry and plugin-throttling, it sees what is left once they gave up.
 */
export function refusals(octokit: Pick<Octokit, 'hook'>): void {
  octokit.hook.error('request', (e, options) => {
    throw refusalOf(e, options as unknown as RequestOptions);
  });
}

function refusal(e: RequestError, permission: string, call: string, hidden: string | undefined): unknown {
  const detail = firstLine(bodyOf(e).message ?? e.message);
  switch (classify(e)) {
    case 'rate-limit':
      return new GitHubRateLimitError(call, e.status, resetOf(e), detail);
    case 'protected-branch':
      return new GitHubProtectedBranchError(call, e.status, detail);
    case 'permission':
      return new GitHubPermissionError(call, e.status, permission, detail);
    case 'too-large':
      return new Error(
        `GitHub refused ${call}: the file is over 1 MB, more than this media type serves (403 ${detail}); ` +
          'ask for the `object` or `raw` media type, or read the blob. This is not a missing permission.',
      );
    case 'not-found':
      return hidden === undefined ? e : new GitHubNotFoundError(call, hidden, permission);
    default:
      return e;
  }
}

/** GitHub's (or a proxy's) words, fit for a message: one line, no control characters, bounded. */
function firstLine(s: unknown): string {
  const text = typeof s === 'string' ? s : String(s);
  return cleanText(text.split('\n')[0] ?? text, 200);
}
