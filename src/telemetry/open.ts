import { isAbsolute, resolve } from 'node:path';
import type { TelemetrySource } from '../policy/gate/ports.ts';
import { TelemetryError } from './errors.ts';
import { JsonlSource } from './jsonl/source.ts';
import type { PrometheusOptions } from './prometheus/options.ts';

// The one way to open the SLI source, for the Action, the CLI and the bot: a JSONL file (the
// embedded default) or a Prometheus-compatible API. Each surface reads its own inputs (action
// inputs, flags, environment) and names them in `names`, so a mistake points at what to change.

export interface TelemetrySpec {
  /** JSONL task records, relative to `baseDir`; `-` for standard input. */
  file?: string | undefined;
  skipBadLines?: boolean | undefined;
  prometheus?: PrometheusOptions | undefined;
}

export interface SpecNames {
  file: string;
  prometheus: string;
}

export async function openTelemetry(
  spec: TelemetrySpec,
  baseDir: string,
  names: SpecNames,
): Promise<TelemetrySource> {
  if (spec.file && spec.prometheus)
    throw new TelemetryError('config', 'telemetry', `give ${names.prometheus} or ${names.file}, not both`);
  if (spec.file) {
    return new JsonlSource({
      // `-` is standard input (a pipe), as for --changed-files.
      path: spec.file === '-' || isAbsolute(spec.file) ? spec.file : resolve(baseDir, spec.file),
      skipBadLines: spec.skipBadLines ?? false,
    });
  }
  if (spec.prometheus) {
    // Loaded on demand: a JSONL run (the CLI's default) never pays for the HTTP client.
    const { createPrometheusSource } = await import('./prometheus/index.ts');
    return createPrometheusSource(spec.prometheus);
  }
  throw new TelemetryError(
    'config',
    'telemetry',
    `no telemetry: give ${names.prometheus} (a Prometheus-compatible API) or ${names.file} (JSONL task records)`,
  );
}
