import type { TelemetrySource } from '../../policy/gate/ports.ts';
import type { PrometheusOptions } from './options.ts';
import { PrometheusSource } from './source.ts';

export { type PrometheusOptions, prometheusOptionsFromEnv } from './options.ts';

export function createPrometheusSource(opts: PrometheusOptions): TelemetrySource {
  return new PrometheusSource(opts);
}
