import type { TelemetrySource } from '../policy/gate/ports.ts';
import { TelemetryError } from '../telemetry/errors.ts';
import { openTelemetry as openSource } from '../telemetry/open.ts';
import { GateSetupError } from './gate.ts';
import { type Inputs, workspaceFile } from './inputs.ts';

/** The SLI source the inputs name: a JSONL file in the workspace, or a Prometheus-compatible API. */
export async function openTelemetry(inputs: Inputs, workspace: string): Promise<TelemetrySource> {
  const url = inputs['prometheus-url'];
  try {
    return await openSource(
      {
        // Confined to the workspace: the gate quotes lines of what it reads into a check run.
        file: inputs['telemetry-file']
          ? workspaceFile(workspace, inputs['telemetry-file'], 'telemetry-file')
          : undefined,
        prometheus: url
          ? {
              url,
              ...(inputs['prometheus-token'] ? { bearerToken: inputs['prometheus-token'] } : {}),
              headers: inputs['prometheus-headers'],
            }
          : undefined,
      },
      workspace,
      { file: 'the `telemetry-file` input', prometheus: 'the `prometheus-url` input' },
    );
  } catch (e) {
    if (e instanceof TelemetryError && e.kind === 'config') throw new GateSetupError(e.message);
    throw e;
  }
}
