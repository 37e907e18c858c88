import type { TelemetryRequest, TelemetryResult, TelemetrySource } from '../../policy/sample.ts';
import { TelemetryError } from '../errors.ts';
import { batches, KEY_LABEL, type Planned, planQueries } from './batch.ts';
import { instantQuery, type QueryStats } from './http.ts';
import { DEFAULTS, displayUrl, type PrometheusOptions } from './options.ts';
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

  constructor(opts: PrometheusOptions) {
    this.opts = opts;
    this.name = `prometheus ${displayUrl(opts.url)}`;
  }

  async fetch(request: TelemetryRequest): Promise<TelemetryResult> {
    checkUrl(this.opts.url, this.name);
    const planned = planQueries(request, this.name);
    const stats: QueryStats = { requests: 0, retries: 0 };
    const answers = new Map<string, Answer>();
    const notes = new Set<string>();
    for (const query of batches(planned.subqueries, this.opts.maxSubqueries ?? DEFAULTS.maxSubqueries)) {
      const answer = await instantQuery(this.opts, this.name, query, request.at, stats);
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

    const slos: TelemetryResult['slos'] = {};
    for (const slo of planned.slos) {
      slos[slo.name] = { ranges: samplesOf(slo, planned.subqueries, answers, this.name), quantiles: null };
    }
    return {
      slos,
      ...(notes.size > 0 ? { warnings: [...notes] } : {}),
      stats: { requests: stats.requests, retries: stats.retries, subqueries: planned.subqueries.size },
    };
  }
}
