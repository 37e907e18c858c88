import type { TelemetrySource } from '../../policy/gate/ports.ts';
import type { PrometheusOptions } from './options.ts';
import { PrometheusSource } from './source.ts';

export { displayUrl, type PrometheusOptions, prometheusOptionsFromEnv } from './options.ts';
export { PrometheusSource } from './source.ts';

export function createPrometheusSource(opts: PrometheusOptions): TelemetrySource {
  return new PrometheusSource(opts);
}
