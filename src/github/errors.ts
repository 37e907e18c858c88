// Turns GitHub's terse refusals into errors a person can fix: which call, which status, and which
// `permissions:` entry (or token kind) the workflow needs.

/** The shape of @octokit/request-error's RequestError that we rely on. */
export interface HttpError {
  status: number;
  message: string;
}

export function isHttpError(e: unknown): e is HttpError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { status?: unknown }).status === 'number' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

export const statusOf = (e: unknown): number | null => (isHttpError(e) ? e.status : null);

/** A call GitHub refused for lack of a permission; `permission` is what to grant, e.g. `checks: write`. */
export class GitHubPermissionError extends Error {
  readonly permission: string;
  readonly status: number;
  readonly call: string;
  constructor(call: string, status: number, permission: string, detail: string) {
    super(
      `GitHub refused ${call} (${status} ${detail}): the token needs \`${permission}\`. ` +
        `Add it under \`permissions:\` in the workflow job (or grant it to the GitHub App).`,
    );
    this.name = 'GitHubPermissionError';
    this.permission = permission;
    this.status = status;
    this.call = call;
  }
}

/**
 * Runs `fn`; a 403 (or a 404 that GitHub uses to hide resources from tokens lacking access, when
 * `notFoundMeansDenied`) becomes a GitHubPermissionError naming `permission`. Rate-limit 403s never
 * reach here: plugin-throttling handles them first.
 */
export async function needing<T>(
  permission: string,
  call: string,
  fn: () => Promise<T>,
  opts: { notFoundMeansDenied?: boolean } = {},
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isHttpError(e) && (e.status === 403 || (opts.notFoundMeansDenied && e.status === 404))) {
      throw new GitHubPermissionError(call, e.status, permission, firstLine(e.message));
    }
    throw e;
  }
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? s;
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
