import {
  countSample,
  RANGE_WINDOW,
  ratioSample,
  type Sample,
  type TelemetryRequest,
  type TelemetryResult,
  type TelemetrySource,
} from '../../policy/sample.ts';
import { TelemetryError } from '../errors.ts';
import { batches, KEY_LABEL, planQueries } from './batch.ts';
import { instantQuery, type QueryStats } from './http.ts';
import { DEFAULTS, displayUrl, type PrometheusOptions } from './options.ts';

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
    const values = new Map<string, number>();
    for (const query of batches(planned.subqueries, this.opts.maxSubqueries ?? DEFAULTS.maxSubqueries)) {
      for (const s of await instantQuery(this.opts, this.name, query, request.at, stats)) {
        const id = s.metric[KEY_LABEL];
        if (id === undefined) continue;
        if (values.has(id)) {
          throw new TelemetryError(
            'query',
            this.name,
            `${planned.subqueries.get(id)} returned more than one series: aggregate it, e.g. wrap it in sum()`,
          );
        }
        values.set(id, Number(s.value[1]));
      }
    }

    const slos: TelemetryResult['slos'] = {};
    for (const slo of planned.slos) {
      const ranges: Record<string, Sample> = {};
      for (const r of slo.ranges) {
        const get = (part: string) => (r.ids[part] === undefined ? undefined : values.get(r.ids[part]!));
        const describe = (part: string) => `${slo.name} ${r.key}: ${planned.subqueries.get(r.ids[part]!)}`;
        const isWindow = r.key === RANGE_WINDOW;
        if (r.query.kind === 'ratio') {
          const ratio = get('ratio');
          if (ratio === undefined && isWindow)
            throw new TelemetryError(
              'no-data',
              this.name,
              `no series for ${describe('ratio')}: ${r.query.hint}`,
            );
          if (ratio !== undefined && Number.isNaN(ratio) && isWindow)
            throw new TelemetryError(
              'nan',
              this.name,
              `NaN for ${describe('ratio')}: no traffic in the window?`,
            );
          ranges[r.key] = ratioSample(ratio === undefined || Number.isNaN(ratio) ? null : ratio);
          continue;
        }
        const total = get('total');
        if (total === undefined && isWindow)
          throw new TelemetryError(
            'no-data',
            this.name,
            `no series for ${describe('total')}: check the metric name and labels`,
          );
        if (total !== undefined && Number.isNaN(total))
          throw new TelemetryError('nan', this.name, `NaN for ${describe('total')}`);
        const events = Math.max(0, total ?? 0);
        let bad: number;
        if (r.query.good !== null) {
          const good = get('good');
          if (good === undefined && events > 0 && isWindow)
            throw new TelemetryError(
              'no-data',
              this.name,
              `no series for ${describe('good')}: for a histogram, is there a bucket with that exact \`le\`?`,
            );
          if (good !== undefined && Number.isNaN(good))
            throw new TelemetryError('nan', this.name, `NaN for ${describe('good')}`);
          bad = events - (good ?? events);
        } else {
          // No series for the bad expression is normal: an error counter appears with the first error.
          const b = get('bad') ?? 0;
          if (Number.isNaN(b)) throw new TelemetryError('nan', this.name, `NaN for ${describe('bad')}`);
          bad = b;
        }
        ranges[r.key] = countSample(events, Math.min(events, Math.max(0, bad)));
      }
      slos[slo.name] = { ranges, quantiles: null };
    }
    return {
      slos,
      stats: { requests: stats.requests, retries: stats.retries, subqueries: planned.subqueries.size },
    };
  }
}
