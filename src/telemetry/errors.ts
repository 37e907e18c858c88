/**
 * Why telemetry could not be read. The kind lets a caller decide whether a retry can help and lets
 * the decision say exactly what went wrong (the policy's `on_telemetry_error` then decides).
 */
export type TelemetryErrorKind =
  | 'unreadable'
  | 'malformed'
  | 'unreachable'
  | 'timeout'
  | 'http'
  | 'query'
  | 'no-data'
  | 'nan'
  | 'partial'
  | 'config'
  /** The newest data is older than `states.max_data_age` allows (src/telemetry/freshness.ts). */
  | 'stale';

export class TelemetryError extends Error {
  readonly kind: TelemetryErrorKind;
  readonly source: string;
  constructor(kind: TelemetryErrorKind, source: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TelemetryError';
    this.kind = kind;
    this.source = source;
  }
}

/** Kinds a later attempt may not hit: the server was down, slow, or answered 5xx/429. */
export const RETRYABLE_KINDS: ReadonlySet<TelemetryErrorKind> = new Set(['unreachable', 'timeout', 'http']);
