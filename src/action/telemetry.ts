import type { LoadedPolicy } from '../policy/load.ts';
import type { TelemetrySource } from '../policy/sample.ts';
import { JsonlSource } from '../telemetry/jsonl/source.ts';
import { createPrometheusSource } from '../telemetry/prometheus/index.ts';
import { GateSetupError } from './gate.ts';
import { type Inputs, workspaceFile } from './inputs.ts';

/** The SLI source the inputs name: a JSONL file in the workspace, or a Prometheus-compatible API. */
export function openTelemetry(inputs: Inputs, _loaded: LoadedPolicy, workspace: string): TelemetrySource {
  const file = inputs['telemetry-file'];
  const url = inputs['prometheus-url'];
  if (file && url) throw new GateSetupError('set `prometheus-url` or `telemetry-file`, not both');
  if (file) return new JsonlSource({ path: workspaceFile(workspace, file, 'telemetry-file') });
  if (url) {
    return createPrometheusSource({
      url,
      ...(inputs['prometheus-token'] ? { bearerToken: inputs['prometheus-token'] } : {}),
      headers: inputs['prometheus-headers'],
    });
  }
  throw new GateSetupError(
    'no telemetry: set the `prometheus-url` input (a Prometheus-compatible API) or `telemetry-file` (JSONL task records)',
  );
}
