import { startPrometheus } from './prometheus.ts';
import { type SeriesSet, toOpenMetrics, toVmJsonLines } from './series.ts';
import { startVictoriaMetrics } from './victoria-metrics.ts';

// Every Prometheus-compatible server the equivalence tests run against, loaded with the same
// samples: a test written once runs against each.

export const BACKENDS = ['prometheus', 'victoria-metrics'] as const;
export type BackendKind = (typeof BACKENDS)[number];

export interface MetricsBackend {
  kind: BackendKind;
  url: string;
  version: string;
  stop(): Promise<void>;
}

export async function startBackend(kind: BackendKind, set: SeriesSet): Promise<MetricsBackend> {
  const running =
    kind === 'prometheus'
      ? await startPrometheus(toOpenMetrics(set))
      : await startVictoriaMetrics(toVmJsonLines(set));
  return { kind, ...running };
}
