import { access, constants } from 'node:fs/promises';
import { cleanText } from '../net/clean-text.ts';
import type { WatchStore } from '../policy/canary/ports.ts';
import { instantQuery } from '../telemetry/prometheus/http.ts';
import type { PrometheusOptions } from '../telemetry/prometheus/index.ts';

// /healthz: the bot is healthy when it can reach its store and its telemetry, the two things every
// tick needs. Each check is a cheap round trip made at request time, with its own error.

export type Probe = () => Promise<void>;

export interface HealthReport {
  ok: boolean;
  checks: Record<string, { ok: true } | { ok: false; error: string }>;
}

export const storeProbe =
  (store: WatchStore): Probe =>
  () =>
    store.ping();

/** The JSONL file is there and readable. */
export const fileProbe =
  (path: string): Probe =>
  () =>
    access(path, constants.R_OK);

/** The Prometheus-compatible API answers a trivial query (one attempt, short timeout). */
export const prometheusProbe =
  (opts: PrometheusOptions): Probe =>
  async () => {
    await instantQuery(
      { ...opts, retries: 0, timeoutMs: Math.min(opts.timeoutMs ?? 5_000, 5_000) },
      'healthz',
      'vector(1)',
      Date.now(),
      { requests: 0, retries: 0 },
    );
  };

/**
 * The outcome of each dependency's last real attempt (a GitHub request, an evaluation's telemetry
 * read), kept as it happens: /healthz reports a dependency that failed its last attempt even when a
 * probe made at request time would pass (GitHub has no cheap probe that costs no rate limit).
 */
export class LastAttempts {
  private readonly last = new Map<string, { ok: boolean; error: string | null; at: number }>();

  record(name: string, ok: boolean, error: string | null = null, at = Date.now()): void {
    this.last.set(name, { ok, error, at });
  }

  /** A probe that fails with the last attempt's error; passes before any attempt. */
  probe(name: string): Probe {
    return async () => {
      const l = this.last.get(name);
      if (l && !l.ok)
        throw new Error(
          `last attempt at ${new Date(l.at).toISOString()} failed: ${l.error ?? 'unknown error'}`,
        );
    };
  }
}

/** Both must pass: the request-time probe, then the last real attempt. */
export const bothProbes =
  (a: Probe, b: Probe): Probe =>
  async () => {
    await a();
    await b();
  };

export async function checkHealth(probes: Record<string, Probe>): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      try {
        await probe();
        return [name, { ok: true as const }] as const;
      } catch (e) {
        // A dependency's error may quote a server (an escape sequence, a forged line): one clean line.
        return [name, { ok: false as const, error: cleanText(String((e as Error).message ?? e)) }] as const;
      }
    }),
  );
  return { ok: entries.every(([, r]) => r.ok), checks: Object.fromEntries(entries) };
}
