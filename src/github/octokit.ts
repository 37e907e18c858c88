import { Octokit } from '@octokit/core';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck';
import { type CapOptions, cappedFetch } from '../net/capped-fetch.ts';
import { useEnvProxy } from '../telemetry/env-proxy.ts';
import { refusals } from './errors.ts';

// The core Octokit plus retry and throttling, without the generated endpoint methods: every call
// here goes through `request('METHOD /route', …)`, which keeps the action's bundle small and lets
// the bot pass Probot's own Octokit (also core-based) to the same functions.

/** What the functions in src/github need from an Octokit: the action's, or Probot's. */
export type GitHubClient = Pick<Octokit, 'request'>;

export interface RepoRef {
  owner: string;
  repo: string;
}

// `refusals` last: its hook wraps the others, so it classifies what retry and throttling gave up on.
const GateOctokit = Octokit.plugin(retry, throttling, refusals);
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

interface Logger {
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
  /** Minimum gap between writes (see writeSpacing); tests shorten it. */
  writeGapMs?: number;
  userAgent?: string;
  /** How much of an answer is read, and for how long: GITHUB_CAPS unless a test says otherwise. */
  caps?: Partial<CapOptions>;
}

/**
 * 409 is added to plugin-retry's "never retry" list: a Contents API conflict means our `sha` is
 * stale, so resending the same body can only fail again; the audit log re-reads instead.
 */
const DO_NOT_RETRY = [400, 401, 403, 404, 409, 410, 422, 451];

/** What the retry/throttling setup reports: a warning per wait, and the wait itself for metrics. */
export interface LimitHooks {
  log?: Pick<Logger, 'warn'>;
  /** How many times a rate-limited request is retried before it fails. */
  rateLimitRetries?: number;
  onWait?: (kind: 'primary' | 'secondary', seconds: number) => void;
}

/**
 * plugin-throttling's handlers, for every Octokit budget-gate makes (the Action's and the bot's
 * Probot one): retry a rate-limited request a few times, primary or secondary limit alike, saying so.
 * Probot's own handlers give up on a secondary limit at once; these do not.
 */
export function throttleHandlers(h: LimitHooks = {}) {
  const retries = h.rateLimitRetries ?? 2;
  const onLimit =
    (what: string, kind: 'primary' | 'secondary') =>
    (retryAfter: number, options: { method: string; url: string }, octokit: unknown, count: number) => {
      const again = count < retries;
      // Without a logger of its own, the Octokit's (Probot's pino child) says it.
      const log = h.log ?? (octokit as { log?: Pick<Logger, 'warn'> } | undefined)?.log;
      log?.warn(
        `GitHub ${what} hit on ${options.method} ${options.url}; ${again ? `retry ${count + 1} in ${retryAfter}s` : 'giving up'}`,
      );
      if (again) h.onWait?.(kind, retryAfter);
      return again;
    };
  return {
    onRateLimit: onLimit('rate limit', 'primary'),
    onSecondaryRateLimit: onLimit('secondary rate limit', 'secondary'),
  };
}

/**
 * plugin-throttling's write queues with `gapMs` between writes (its default: 1 s, 3 s for writes
 * that notify). GitHub asks integrations to space writes; a GitHub Enterprise Server may allow less.
 */
export function writeSpacing(gapMs: number | undefined) {
  return gapMs === undefined
    ? {}
    : {
        write: new Bottleneck.Group({ maxConcurrent: 1, minTime: gapMs }),
        notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: gapMs }),
      };
}

/** plugin-retry's options: 5xx and network errors, never the refusals in DO_NOT_RETRY. */
export function retryOptions(o: { retries?: number; retryBaseMs?: number } = {}) {
  return {
    doNotRetry: DO_NOT_RETRY,
    retries: o.retries ?? 3,
    ...(o.retryBaseMs !== undefined ? { retryAfterBaseValue: o.retryBaseMs } : {}),
  };
}

/**
 * What is read of one GitHub answer: the largest budget-gate asks for (a tree of 100,000 entries,
 * a 1 MB file's contents) is a few MB; an error page is cut at 64 KiB (its status is what counts).
 * GitHub itself gives up on a request after 10 s; a minute without the whole answer is no answer.
 */
export const GITHUB_CAPS = {
  service: 'GitHub',
  maxBytes: 32 << 20,
  maxErrorBytes: 64 << 10,
  timeoutMs: 60_000,
} as const;

/**
 * fetch that reports each request sent (retries included), looked up per call, not captured:
 * nock and test servers patch globalThis.fetch late. Every answer is read within GITHUB_CAPS.
 */
export function reportingFetch(
  onRequest: (method: string, url: string) => void,
  onResponse?: (method: string, status: number | null) => void,
  caps: CapOptions = GITHUB_CAPS,
): typeof fetch {
  const capped = cappedFetch(() => globalThis.fetch, caps);
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? 'GET';
    onRequest(method, url);
    try {
      const res = await capped(input, init);
      onResponse?.(method, res.status);
      return res;
    } catch (e) {
      onResponse?.(method, null);
      throw e;
    }
  };
}

export function createOctokit(opts: CreateOctokitOptions): GateOctokitInstance {
  const counter = opts.counter;
  const log = opts.log;
  // Self-hosted runners behind a proxy: HTTPS_PROXY/NO_PROXY, as GitHub's toolkit honours them.
  const proxy = useEnvProxy();
  if (proxy) (proxy.ok ? log?.debug : log?.warn)?.(proxy.message);
  return new GateOctokit({
    auth: opts.token,
    baseUrl: (opts.baseUrl ?? 'https://api.github.com').replace(/\/+$/, ''),
    userAgent: opts.userAgent ?? 'budget-gate',
    request: {
      fetch: reportingFetch((method, url) => counter?.record(method, url), undefined, {
        ...GITHUB_CAPS,
        ...opts.caps,
      }),
    },
    retry: retryOptions(opts),
    throttle: {
      ...writeSpacing(opts.writeGapMs),
      ...throttleHandlers({
        ...(log ? { log } : {}),
        ...(opts.rateLimitRetries !== undefined ? { rateLimitRetries: opts.rateLimitRetries } : {}),
      }),
    },
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
