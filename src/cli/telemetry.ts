import type { TelemetrySource } from '../policy/gate/ports.ts';
import { DEFAULT_POLICY_PATH } from '../policy/spec/load.ts';
import { parseDuration } from '../policy/time/duration.ts';
import { TelemetryError } from '../telemetry/errors.ts';
import { openTelemetry as openSource } from '../telemetry/open.ts';
import { parseHeaderText } from '../telemetry/prometheus/headers.ts';
import {
  type PrometheusOptions,
  prometheusOptionsFromEnv,
  TIMEOUT_BOUNDS,
} from '../telemetry/prometheus/options.ts';
import { CliError, type CliIo } from './io.ts';

/** The policy and telemetry flags every command that reads telemetry takes (node:util parseArgs). */
export const SOURCE_OPTIONS = {
  policy: { type: 'string', default: DEFAULT_POLICY_PATH },
  telemetry: { type: 'string' },
  'skip-bad-lines': { type: 'boolean' },
  prometheus: { type: 'string' },
  'prometheus-header': { type: 'string', multiple: true },
  'prometheus-timeout': { type: 'string' },
} as const;

export interface TelemetryFlags {
  telemetry?: string | undefined;
  prometheus?: string | undefined;
  'skip-bad-lines'?: boolean | undefined;
  'prometheus-header'?: string[] | undefined;
  'prometheus-timeout'?: string | undefined;
}

function prometheusFromFlags(io: CliIo, url: string, flags: TelemetryFlags): PrometheusOptions {
  const headers: Record<string, string> = {};
  for (const h of flags['prometheus-header'] ?? []) {
    const parsed = parseHeaderText(h);
    if (!parsed.ok || h.trim().startsWith('{') || Object.keys(parsed.headers).length === 0)
      throw new CliError(`--prometheus-header ${h}: expected "Name: value"`);
    Object.assign(headers, parsed.headers);
  }
  const opts = prometheusOptionsFromEnv(io.env, { url });
  if (Object.keys(headers).length > 0) opts.headers = { ...opts.headers, ...headers };
  if (flags['prometheus-timeout']) {
    const ms = parseDuration(flags['prometheus-timeout']);
    if (ms === null || ms < TIMEOUT_BOUNDS.min || ms > TIMEOUT_BOUNDS.max)
      throw new CliError(
        `--prometheus-timeout ${flags['prometheus-timeout']}: expected a duration from 100ms to 5m, such as 10s`,
      );
    opts.timeoutMs = ms;
  }
  return opts;
}

/** `--telemetry FILE` (JSONL, the embedded default) or `--prometheus URL` / BUDGET_GATE_PROMETHEUS_URL. */
export async function openTelemetry(io: CliIo, flags: TelemetryFlags): Promise<TelemetrySource> {
  const url = flags.prometheus ?? (flags.telemetry ? undefined : io.env.BUDGET_GATE_PROMETHEUS_URL);
  try {
    return await openSource(
      {
        file: flags.telemetry,
        skipBadLines: flags['skip-bad-lines'],
        prometheus: url ? prometheusFromFlags(io, url, flags) : undefined,
      },
      io.cwd,
      { file: '--telemetry FILE', prometheus: '--prometheus URL' },
    );
  } catch (e) {
    if (e instanceof TelemetryError && e.kind === 'config') throw new CliError(e.message);
    throw e;
  }
}
