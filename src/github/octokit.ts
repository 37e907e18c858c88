import { Octokit } from '@octokit/core';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { useEnvProxy } from '../telemetry/env-proxy.ts';

// The core Octokit plus retry and throttling, without the generated endpoint methods: every call
// here goes through `request('METHOD /route', …)`, which keeps the action's bundle small and lets
// the bot pass Probot's own Octokit (also core-based) to the same functions.

/** What the functions in src/github need from an Octokit: the action's, or Probot's. */
export type GitHubClient = Pick<Octokit, 'request'>;

export interface RepoRef {
  owner: string;
  repo: string;
}

export const GateOctokit = Octokit.plugin(retry, throttling);
export type GateOctokitInstance = InstanceType<typeof GateOctokit>;

/** Counts the HTTP requests actually sent (retries included), by `METHOD /path`. */
export class RequestCounter {
  total = 0;
  readonly byRoute = new Map<string, number>();

  record(method: string, url: string): void {
    this.total += 1;
    const key = `${method} ${new URL(url).pathname}`;
    this.byRoute.set(key, (this.byRoute.get(key) ?? 0) + 1);
  }
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface CreateOctokitOptions {
  token: string;
  /** GITHUB_API_URL; https://api.github.com when unset. Tests point it at nock or a local server. */
  baseUrl?: string;
  counter?: RequestCounter;
  log?: Logger;
  /** How many times a rate-limited request is retried before it fails. */
  rateLimitRetries?: number;
  /** Retries for 5xx and network errors (plugin-retry). */
  retries?: number;
  /** plugin-retry waits `base × (attempt²)` ms; tests shorten it. */
  retryBaseMs?: number;
  userAgent?: string;
}

/**
 * 409 is added to plugin-retry's "never retry" list: a Contents API conflict means our `sha` is
 * stale, so resending the same body can only fail again; the audit log re-reads instead.
 */
export const DO_NOT_RETRY = [400, 401, 403, 404, 409, 410, 422, 451];

export function createOctokit(opts: CreateOctokitOptions): GateOctokitInstance {
  const counter = opts.counter;
  const log = opts.log;
  // Self-hosted runners behind a proxy: HTTPS_PROXY/NO_PROXY, as GitHub's toolkit honours them.
  const proxy = useEnvProxy();
  if (proxy) (proxy.ok ? log?.debug : log?.warn)?.(proxy.message);
  const rateLimitRetries = opts.rateLimitRetries ?? 2;
  // Retry a rate-limited request a few times (plugin-throttling waits retryAfter), saying so.
  const onLimit =
    (what: string) =>
    (retryAfter: number, options: { method: string; url: string }, _o: unknown, count: number) => {
      log?.warn(
        `GitHub ${what} hit on ${options.method} ${options.url}; retry ${count + 1} in ${retryAfter}s`,
      );
      return count < rateLimitRetries;
    };
  const countingFetch: typeof fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    counter?.record(init?.method ?? 'GET', url);
    // Looked up per call, not captured: nock and test servers patch globalThis.fetch late.
    return globalThis.fetch(input, init);
  };
  return new GateOctokit({
    auth: opts.token,
    baseUrl: (opts.baseUrl ?? 'https://api.github.com').replace(/\/+$/, ''),
    userAgent: opts.userAgent ?? 'budget-gate',
    request: { fetch: countingFetch },
    retry: {
      doNotRetry: DO_NOT_RETRY,
      retries: opts.retries ?? 3,
      ...(opts.retryBaseMs !== undefined ? { retryAfterBaseValue: opts.retryBaseMs } : {}),
    },
    throttle: { onRateLimit: onLimit('rate limit'), onSecondaryRateLimit: onLimit('secondary rate limit') },
    log: log
      ? {
          debug: (m: string) => log.debug(m),
          info: (m: string) => log.debug(m),
          warn: log.warn,
          error: log.error,
        }
      : undefined,
  });
}
