import { ProbotOctokit } from 'probot';
import { refusals } from '../github/errors.ts';
import { reportingFetch, retryOptions, throttleHandlers, writeSpacing } from '../github/octokit.ts';
import type { BotMetrics } from './metrics.ts';

// Probot's Octokit with the retry and throttling setup the Action uses (src/github/octokit.ts), so a
// secondary rate limit is waited out and retried here too, and every request and wait is counted.

export interface BotOctokitOptions {
  /** Sent in the User-Agent, so GitHub's logs (and a test's server) tell replicas apart. */
  replica: string;
  metrics?: BotMetrics;
  /**
   * Minimum gap between writes (plugin-throttling's default: 1 s, 3 s for writes that notify).
   * GitHub asks integrations to space writes; a GitHub Enterprise Server may allow less.
   */
  writeGapMs?: number;
  /** Each answer (status) or failure to get one (null): /healthz's record of GitHub's last attempt. */
  onResponse?: (status: number | null) => void;
}

export function botOctokit(o: BotOctokitOptions): typeof ProbotOctokit {
  const m = o.metrics;
  const spacing = writeSpacing(o.writeGapMs);
  // `refusals` (errors.ts) after Probot's own plugins: a refusal names the permission to grant.
  return ProbotOctokit.plugin(refusals).defaults((instance: { request?: object; throttle?: object }) => ({
    ...instance,
    userAgent: `budget-gate (${o.replica})`,
    request: {
      ...instance.request,
      fetch: reportingFetch(
        () => {},
        (method, status) => {
          m?.githubRequest(method, status);
          o.onResponse?.(status);
        },
      ),
    },
    retry: retryOptions(),
    throttle: {
      ...instance.throttle,
      ...spacing,
      ...throttleHandlers({ onWait: (kind, s) => m?.rateLimitWait(kind, s) }),
    },
  })) as typeof ProbotOctokit;
}
