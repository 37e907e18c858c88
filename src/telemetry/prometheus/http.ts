import { RETRYABLE_KINDS, TelemetryError } from '../errors.ts';
import { DEFAULTS, displayUrl, type PrometheusOptions } from './options.ts';

// One instant query over Prometheus's HTTP API, POSTed form-encoded (a batch of sub-queries is too
// long for a URL), retried with backoff when the server was down, slow or overloaded.

export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

interface ApiResponse {
  status?: string;
  data?: { resultType?: string; result?: unknown };
  errorType?: string;
  error?: string;
  warnings?: string[];
}

export interface QueryStats {
  requests: number;
  retries: number;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function authHeaders(opts: PrometheusOptions): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (opts.bearerToken) h.authorization = `Bearer ${opts.bearerToken}`;
  else if (opts.basicAuth)
    h.authorization = `Basic ${Buffer.from(`${opts.basicAuth.username}:${opts.basicAuth.password}`).toString('base64')}`;
  return { ...h, ...opts.headers };
}

function endpoint(url: string): string {
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/$/, '')}/api/v1/query`;
  u.username = '';
  u.password = '';
  return u.toString();
}

async function attempt(
  opts: PrometheusOptions,
  source: string,
  query: string,
  time: number,
): Promise<VectorSample[]> {
  const where = displayUrl(opts.url);
  const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(endpoint(opts.url), {
      method: 'POST',
      headers: authHeaders(opts),
      body: new URLSearchParams({ query, time: (time / 1000).toFixed(3) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError')
      throw new TelemetryError(
        'timeout',
        source,
        `Prometheus at ${where} did not answer within ${timeoutMs} ms`,
      );
    const why = err.cause?.code ?? err.cause?.message ?? err.message;
    throw new TelemetryError('unreachable', source, `cannot reach Prometheus at ${where} (${why})`);
  }
  const text = await res.text().catch(() => '');
  let body: ApiResponse | null = null;
  try {
    body = JSON.parse(text) as ApiResponse;
  } catch {}
  const apiError =
    body?.status === 'error' ? `${body.errorType ?? 'error'}: ${body.error ?? 'no message'}` : null;
  if (res.status === 400 || res.status === 422) {
    throw new TelemetryError(
      'query',
      source,
      `Prometheus at ${where} refused the query (${apiError ?? `HTTP ${res.status}`})`,
    );
  }
  if (res.status === 401 || res.status === 403) {
    throw new TelemetryError(
      'config',
      source,
      `Prometheus at ${where} answered ${res.status} ${res.statusText}: check the credentials (BUDGET_GATE_PROMETHEUS_TOKEN, or _USER and _PASSWORD)`,
    );
  }
  if (!res.ok) {
    throw new TelemetryError(
      'http',
      source,
      `Prometheus at ${where} answered HTTP ${res.status}${apiError ? ` (${apiError})` : ''}`,
    );
  }
  if (!body)
    throw new TelemetryError(
      'http',
      source,
      `Prometheus at ${where} answered with something that is not its API's JSON`,
    );
  if (apiError)
    throw new TelemetryError('query', source, `Prometheus at ${where} returned an error (${apiError})`);
  if (body.warnings?.length) {
    throw new TelemetryError(
      'partial',
      source,
      `Prometheus at ${where} returned a partial result: ${body.warnings.join('; ')}`,
    );
  }
  if (body.data?.resultType !== 'vector' || !Array.isArray(body.data.result)) {
    throw new TelemetryError(
      'query',
      source,
      `Prometheus at ${where} returned a ${body.data?.resultType ?? 'malformed'} result, expected an instant vector`,
    );
  }
  return body.data.result as VectorSample[];
}

export async function instantQuery(
  opts: PrometheusOptions,
  source: string,
  query: string,
  time: number,
  stats: QueryStats,
): Promise<VectorSample[]> {
  const retries = opts.retries ?? DEFAULTS.retries;
  const sleep = opts.sleep ?? defaultSleep;
  for (let n = 0; ; n++) {
    stats.requests++;
    try {
      return await attempt(opts, source, query, time);
    } catch (e) {
      if (!(e instanceof TelemetryError) || !RETRYABLE_KINDS.has(e.kind) || n >= retries) {
        if (e instanceof TelemetryError && n > 0) e.message += ` (after ${n + 1} attempts)`;
        throw e;
      }
      stats.retries++;
      // 250 ms, 500 ms, 1 s … with jitter so replicas do not retry in step.
      await sleep(250 * 2 ** n * (0.75 + Math.random() * 0.5));
    }
  }
}
