import { parseDuration } from '../../policy/time/duration.ts';
import { TelemetryError } from '../errors.ts';
import { parseHeaderText } from './headers.ts';

export interface PrometheusOptions {
  /** Base URL of a Prometheus-compatible HTTP API: Prometheus, Thanos, Mimir (…/prometheus), VictoriaMetrics. */
  url: string;
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
  /** Extra headers, e.g. `X-Scope-OrgID` for Mimir and Cortex. */
  headers?: Record<string, string>;
  /** Per request. */
  timeoutMs?: number;
  /** Further attempts after the first, for failures a retry can help (unreachable, timeout, 5xx, 429). */
  retries?: number;
  /** Sub-queries per HTTP request; more are split into several requests. */
  maxSubqueries?: number;
  /**
   * Longest PromQL one request may carry, in bytes. Unset: no limit until the server states one
   * (VictoriaMetrics' `-search.maxQueryLen`, 16384 by default), which is then kept.
   */
  maxQueryBytes?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULTS = { timeoutMs: 10_000, retries: 2, maxSubqueries: 400 } as const;

const SOURCE = 'prometheus';

/** How long one request may take: the CLI's --prometheus-timeout and BUDGET_GATE_PROMETHEUS_TIMEOUT. */
export const TIMEOUT_BOUNDS = { min: 100, max: 300_000 } as const;

/** `%` not followed by two hex digits: decodeURIComponent throws on it. */
const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/**
 * What is wrong with a Prometheus URL, or null: not http(s), or a user or password with a `%` that
 * starts no escape (which would be dropped, not sent). Never quotes the credentials.
 */
export function urlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL: expected http(s)://host[:port][/path]';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'expected an http(s) URL';
  if (MALFORMED_ESCAPE.test(u.username) || MALFORMED_ESCAPE.test(u.password))
    return 'the user or password in the URL has a % that starts no percent-escape: write % as %25';
  return null;
}

/** `K: V` lines (or a JSON object) from BUDGET_GATE_PROMETHEUS_HEADERS. */
function parseHeaders(text: string): Record<string, string> {
  const parsed = parseHeaderText(text);
  if (parsed.ok) return parsed.headers;
  throw new TelemetryError(
    'config',
    SOURCE,
    parsed.problem === 'json'
      ? 'BUDGET_GATE_PROMETHEUS_HEADERS: expected a JSON object of strings or `Name: value` lines'
      : `BUDGET_GATE_PROMETHEUS_HEADERS: "${parsed.line.slice(0, 40)}" is not \`Name: value\``,
  );
}

/** Connection settings from the environment; explicit settings win. Secrets stay out of messages. */
export function prometheusOptionsFromEnv(
  env: Record<string, string | undefined>,
  overrides: Partial<PrometheusOptions> = {},
): PrometheusOptions {
  const url = overrides.url ?? env.BUDGET_GATE_PROMETHEUS_URL;
  if (!url)
    throw new TelemetryError(
      'config',
      SOURCE,
      'no Prometheus URL: give --prometheus URL or set BUDGET_GATE_PROMETHEUS_URL',
    );
  const problem = urlProblem(url);
  if (problem)
    throw new TelemetryError('config', SOURCE, `the Prometheus URL ${displayUrl(url)}: ${problem}`);
  const opts: PrometheusOptions = { url };
  if (env.BUDGET_GATE_PROMETHEUS_TOKEN) opts.bearerToken = env.BUDGET_GATE_PROMETHEUS_TOKEN;
  if (env.BUDGET_GATE_PROMETHEUS_USER)
    opts.basicAuth = {
      username: env.BUDGET_GATE_PROMETHEUS_USER,
      password: env.BUDGET_GATE_PROMETHEUS_PASSWORD ?? '',
    };
  if (env.BUDGET_GATE_PROMETHEUS_HEADERS) opts.headers = parseHeaders(env.BUDGET_GATE_PROMETHEUS_HEADERS);
  if (env.BUDGET_GATE_PROMETHEUS_TIMEOUT) {
    const ms = parseDuration(env.BUDGET_GATE_PROMETHEUS_TIMEOUT);
    if (ms === null || ms < TIMEOUT_BOUNDS.min || ms > TIMEOUT_BOUNDS.max)
      throw new TelemetryError(
        'config',
        SOURCE,
        'BUDGET_GATE_PROMETHEUS_TIMEOUT: expected a duration from 100ms to 5m, such as 10s',
      );
    opts.timeoutMs = ms;
  }
  if (env.BUDGET_GATE_PROMETHEUS_MAX_QUERY_BYTES) {
    const n = Number(env.BUDGET_GATE_PROMETHEUS_MAX_QUERY_BYTES);
    if (!Number.isInteger(n) || n < 256)
      throw new TelemetryError(
        'config',
        SOURCE,
        'BUDGET_GATE_PROMETHEUS_MAX_QUERY_BYTES: expected a whole number of bytes, at least 256, such as 16384',
      );
    opts.maxQueryBytes = n;
  }
  return { ...opts, ...overrides };
}

/** The URL without credentials, for names and messages. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}
