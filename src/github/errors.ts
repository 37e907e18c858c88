import { RequestError } from '@octokit/request-error';

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
  isRequestError(e) && e.status === 403 && classify(e) === 'permission';

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

export interface NeedingOptions {
  /** GitHub answers 404 to tokens that may not see the resource: report it as `GitHubNotFoundError`. */
  notFoundMeansDenied?: boolean;
  /** What a 404 is about, in words ("the audit branch budget-gate/audit"); the call otherwise. */
  resource?: string;
}

/**
 * Runs `fn` and turns GitHub's refusal into the error that says what to do: a rate limit (after
 * plugin-throttling's retries), a protected branch, a missing permission (`permission` names it),
 * or a 404 naming the resource and the permission that would reveal it. Anything else is rethrown.
 */
export async function needing<T>(
  permission: string,
  call: string,
  fn: () => Promise<T>,
  opts: NeedingOptions = {},
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw refusal(e, permission, call, opts);
  }
}

/** The error `needing` would throw for `e`. */
export function refusal(e: unknown, permission: string, call: string, opts: NeedingOptions = {}): unknown {
  if (!(e instanceof RequestError)) return e;
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
      return opts.notFoundMeansDenied ? new GitHubNotFoundError(call, opts.resource ?? call, permission) : e;
    default:
      return e;
  }
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? s;
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
