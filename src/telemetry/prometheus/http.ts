import { cleanText } from '../../net/clean-text.ts';
import { RETRYABLE_KINDS, TelemetryError, type TelemetryErrorKind } from '../errors.ts';
import {
  type ApiResponse,
  apiResponseSchema,
  firstProblem,
  MAX_BODY_BYTES,
  readCapped,
  type VectorSample,
  vectorSchema,
} from './answer.ts';
import { authHeaders, redactor } from './auth.ts';
import { DEFAULTS, displayUrl, type PrometheusOptions } from './options.ts';

// One instant query over Prometheus's HTTP API, POSTed form-encoded (a batch of sub-queries is too
// long for a URL), retried with backoff when the server was down, slow or overloaded.

export interface QueryStats {
  requests: number;
  retries: number;
}

export interface QueryAnswer {
  result: VectorSample[];
  /** PromQL's own annotations (`PromQL info: …`, `PromQL warning: …`): about the query, not lost data. */
  notes: string[];
}

type Attempt =
  | ({ ok: true } & QueryAnswer)
  | { ok: false; error: TelemetryError; retry: boolean; retryAfterMs?: number };

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Longest wait a server's Retry-After can ask for: past this, failing (and the policy) is better. */
const MAX_RETRY_AFTER_MS = 10_000;

function endpoint(url: string): string {
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/$/, '')}/api/v1/query`;
  u.username = '';
  u.password = '';
  return u.toString();
}

function retryAfter(res: Response): number | undefined {
  const h = res.headers.get('retry-after');
  if (!h) return undefined;
  const ms = /^\d+$/.test(h) ? Number(h) * 1000 : Date.parse(h) - Date.now();
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : undefined;
}

/** Prometheus 2.50+ annotates a query (e.g. "metric might not be a counter") in the warnings list. */
const PROMQL_ANNOTATION = /^PromQL (info|warning):/;

const isTimeout = (e: unknown) =>
  e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');

async function attempt(
  opts: PrometheusOptions,
  source: string,
  query: string,
  time: number,
): Promise<Attempt> {
  const where = displayUrl(opts.url);
  const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const fail = (kind: TelemetryErrorKind, message: string, extra: { retryAfterMs?: number } = {}) =>
    ({
      ok: false,
      error: new TelemetryError(kind, source, message),
      retry: RETRYABLE_KINDS.has(kind),
      ...extra,
    }) as const;
  const timedOut = () => fail('timeout', `Prometheus at ${where} did not answer within ${timeoutMs} ms`);

  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(endpoint(opts.url), {
      method: 'POST',
      headers: authHeaders(opts),
      body: new URLSearchParams({ query, time: (time / 1000).toFixed(3) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    if (isTimeout(e)) return timedOut();
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why = cleanText(String(err.cause?.code ?? err.cause?.message ?? err.message), 200);
    return fail('unreachable', `cannot reach Prometheus at ${where} (${why})`);
  }
  let text: string | null;
  try {
    text = await readCapped(res);
  } catch (e) {
    // The timeout covers the body too: a server that sends headers and then stalls is slow, not broken.
    if (isTimeout(e)) return timedOut();
    const why = (e as Error & { cause?: { code?: string } }).cause?.code;
    return fail(
      'unreachable',
      `Prometheus at ${where} closed the connection mid-answer${why ? ` (${why})` : ''}`,
    );
  }
  if (text === null)
    return fail('malformed', `Prometheus at ${where} answered with more than ${MAX_BODY_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {}
  const checked = json === undefined ? null : apiResponseSchema.safeParse(json);
  const body: ApiResponse | null = checked?.success ? checked.data : null;
  const apiError =
    body?.status === 'error'
      ? cleanText(`${body.errorType ?? 'error'}: ${body.error ?? 'no message'}`)
      : null;

  if (res.status === 400 || res.status === 422) {
    // 400 bad_data (the PromQL does not parse), 422 execution (too many samples, and the like).
    return fail('query', `Prometheus at ${where} refused the query (${apiError ?? `HTTP ${res.status}`})`);
  }
  if (res.status === 401 || res.status === 403) {
    return fail(
      'config',
      `Prometheus at ${where} answered ${res.status} ${cleanText(res.statusText, 60)}: check the credentials (BUDGET_GATE_PROMETHEUS_TOKEN, or _USER and _PASSWORD)`,
    );
  }
  if (res.status === 404 || res.status === 405) {
    return fail(
      'config',
      `Prometheus at ${where} answered ${res.status} to POST /api/v1/query: give the URL the API lives under (Mimir/Cortex: …/prometheus, Grafana Cloud: …/api/prom)`,
    );
  }
  if (!res.ok) {
    const message = `Prometheus at ${where} answered HTTP ${res.status}${apiError ? ` (${apiError})` : ''}`;
    const r = fail('http', message, { retryAfterMs: retryAfter(res) });
    // Overload and gateway trouble pass; any other 4xx will be the same next time.
    return { ...r, retry: res.status >= 500 || res.status === 429 || res.status === 408 };
  }
  if (!body) {
    return fail(
      'malformed',
      checked && !checked.success
        ? `Prometheus at ${where} answered JSON that is not its API's (${cleanText(firstProblem(checked.error))})`
        : `Prometheus at ${where} answered with something that is not its API's JSON`,
    );
  }
  if (body.status === 'error') return fail('query', `Prometheus at ${where} returned an error (${apiError})`);
  const warnings = (body.warnings ?? []).map((w) => cleanText(w));
  const notes = warnings.filter((w) => PROMQL_ANNOTATION.test(w));
  const lost = warnings.filter((w) => !PROMQL_ANNOTATION.test(w));
  if (lost.length) {
    // Thanos, Mimir and federated setups warn when a store did not answer: the counts are short.
    return fail('partial', `Prometheus at ${where} returned a partial result: ${lost.join('; ')}`);
  }
  if (body.data.resultType !== 'vector') {
    return fail(
      'query',
      `Prometheus at ${where} returned a ${cleanText(body.data.resultType, 40)} result, expected an instant vector`,
    );
  }
  const vector = vectorSchema.safeParse(body.data.result);
  if (!vector.success) {
    return fail(
      'malformed',
      `Prometheus at ${where} answered a malformed vector (${cleanText(firstProblem(vector.error, 'data.result'))})`,
    );
  }
  return { ok: true, result: vector.data, notes };
}

export async function instantQuery(
  opts: PrometheusOptions,
  source: string,
  query: string,
  time: number,
  stats: QueryStats,
): Promise<QueryAnswer> {
  const retries = opts.retries ?? DEFAULTS.retries;
  const sleep = opts.sleep ?? defaultSleep;
  const redact = redactor(opts);
  for (let n = 0; ; n++) {
    stats.requests++;
    const a = await attempt(opts, source, query, time);
    if (a.ok) return { result: a.result, notes: a.notes };
    if (!a.retry || n >= retries) {
      const tries = n > 0 ? ` (after ${n + 1} attempts)` : '';
      throw new TelemetryError(a.error.kind, source, redact(a.error.message) + tries);
    }
    stats.retries++;
    // 250 ms, 500 ms, 1 s … with jitter so replicas do not retry in step; longer if the server asks.
    const backoff = 250 * 2 ** n * (0.75 + Math.random() * 0.5);
    await sleep(Math.max(backoff, a.retryAfterMs ?? 0));
  }
}
