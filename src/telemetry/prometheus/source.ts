import type { TelemetrySource } from '../../policy/gate/ports.ts';
import type { TelemetryRequest, TelemetryResult } from '../../policy/gate/sample.ts';
import { useEnvProxy } from '../env-proxy.ts';
import { TelemetryError } from '../errors.ts';
import { type Batch, batches, KEY_LABEL, type Planned, planQueries, statedQueryLimit } from './batch.ts';
import { instantQuery, type QueryAnswer, type QueryStats } from './http.ts';
import { DEFAULTS, displayUrl, type PrometheusOptions, urlProblem } from './options.ts';
import { type Answer, answerOf, samplesOf } from './samples.ts';

function checkUrl(url: string, source: string): void {
  let protocol = '';
  try {
    protocol = new URL(url).protocol;
  } catch {}
  if (protocol !== 'http:' && protocol !== 'https:')
    throw new TelemetryError(
      'config',
      source,
      `Prometheus URL: expected an http(s) URL such as http://prometheus:9090, got ${displayUrl(url)}`,
    );
  // A user or password that does not decode would be dropped, and the server asked without them.
  const problem = urlProblem(url);
  if (problem) throw new TelemetryError('config', source, `Prometheus URL ${displayUrl(url)}: ${problem}`);
}

/** The SLO and range a sub-query was first asked for, to name in a message. */
function askedBy(planned: Planned, id: string): string {
  for (const slo of planned.slos)
    for (const r of slo.ranges) if (Object.values(r.ids).includes(id)) return `${slo.name} ${r.key}`;
  return id;
}

/** Counts or ratios for every SLO and range of a request, from a Prometheus-compatible API. */
export class PrometheusSource implements TelemetrySource {
  readonly name: string;
  private readonly opts: PrometheusOptions;
  /** The server's query-length limit, once it has stated one (VictoriaMetrics); kept for later fetches. */
  private maxQueryBytes: number;

  constructor(opts: PrometheusOptions) {
    this.opts = opts;
    this.name = `prometheus ${displayUrl(opts.url)}`;
    this.maxQueryBytes = opts.maxQueryBytes ?? Number.POSITIVE_INFINITY;
  }

  /**
   * One batch's answer. A batch refused for its length (VictoriaMetrics' `-search.maxQueryLen`)
   * is split under the limit the server stated and asked again, and the limit is remembered, so
   * the same policy works against a server with a limit without a setting; only the first fetch
   * pays the refused request.
   */
  private async ask(batch: Batch, planned: Planned, at: number, stats: QueryStats): Promise<QueryAnswer[]> {
    try {
      return [await instantQuery(this.opts, this.name, batch.query, at, stats)];
    } catch (e) {
      const limit = e instanceof TelemetryError && e.kind === 'query' ? statedQueryLimit(e.message) : null;
      if (limit === null || batch.ids.length < 2 || limit >= this.maxQueryBytes) throw e;
      this.maxQueryBytes = limit;
      const again = new Map(batch.ids.map((id) => [id, planned.subqueries.get(id)!]));
      const answers: QueryAnswer[] = [];
      for (const b of batches(again, batch.ids.length, limit))
        answers.push(...(await this.ask(b, planned, at, stats)));
      return answers;
    }
  }

  async fetch(request: TelemetryRequest): Promise<TelemetryResult> {
    checkUrl(this.opts.url, this.name);
    const planned = planQueries(request, this.name);
    const stats: QueryStats = { requests: 0, retries: 0 };
    const answers = new Map<string, Answer>();
    const notes = new Set<string>();
    // HTTPS_PROXY/HTTP_PROXY/NO_PROXY, as for GitHub (a fetch given in the options is the caller's).
    const proxy = this.opts.fetch ? null : useEnvProxy();
    if (proxy && !proxy.ok) notes.add(`${this.name}: ${proxy.message}`);
    const max = this.opts.maxSubqueries ?? DEFAULTS.maxSubqueries;
    const answered: QueryAnswer[] = [];
    // One batch at a time from what is left, so a limit learnt on the first applies to the rest.
    const pending = new Map(planned.subqueries);
    while (pending.size > 0) {
      const batch = batches(pending, max, this.maxQueryBytes)[0]!;
      answered.push(...(await this.ask(batch, planned, request.at, stats)));
      for (const id of batch.ids) pending.delete(id);
    }
    for (const answer of answered) {
      for (const n of answer.notes) notes.add(`${this.name}: ${n}`);
      for (const s of answer.result) {
        const id = s.metric[KEY_LABEL];
        if (id === undefined) continue;
        if (answers.has(id)) {
          throw new TelemetryError(
            'query',
            this.name,
            `${askedBy(planned, id)}: ${planned.subqueries.get(id)} returned more than one series: aggregate it, e.g. wrap it in sum()`,
          );
        }
        answers.set(id, answerOf(s.value[1]));
      }
    }

    let newest: number | null = null;
    for (const id of planned.probes) {
      const a = answers.get(id);
      if (a && Number.isFinite(a.value) && (newest === null || a.value * 1000 > newest))
        newest = a.value * 1000;
    }
    const slos: TelemetryResult['slos'] = {};
    for (const slo of planned.slos) {
      slos[slo.name] = { ranges: samplesOf(slo, planned.subqueries, answers, this.name), quantiles: null };
    }
    return {
      slos,
      ...(request.freshnessSpan !== undefined && planned.probes.length > 0
        ? { freshness: { source: 'prometheus' as const, newest, looked: request.freshnessSpan } }
        : {}),
      ...(notes.size > 0 ? { warnings: [...notes] } : {}),
      stats: { requests: stats.requests, retries: stats.retries, subqueries: planned.subqueries.size },
    };
  }
}
