import { describe, expect, it } from 'vitest';
import { bothProbes, checkHealth, LastAttempts } from '../../src/bot/health.ts';

// /healthz's record of real attempts: GitHub judged by the bot's own last request (no probe spends
// the rate limit), telemetry by the request-time probe and the evaluator's last read together.

describe('health from last attempts', () => {
  it('fails a dependency whose last attempt failed, with when and why, and recovers on the next success', async () => {
    const a = new LastAttempts();
    const probes = { github: a.probe('github'), telemetry: bothProbes(async () => {}, a.probe('telemetry')) };
    expect(await checkHealth(probes)).toEqual({
      ok: true,
      checks: { github: { ok: true }, telemetry: { ok: true } },
    });
    a.record('github', false, 'no answer from GitHub', Date.parse('2026-03-02T12:00:00Z'));
    a.record(
      'telemetry',
      false,
      'acme/r0: telemetry: connection refused',
      Date.parse('2026-03-02T12:00:05Z'),
    );
    expect(await checkHealth(probes)).toEqual({
      ok: false,
      checks: {
        github: {
          ok: false,
          error: 'last attempt at 2026-03-02T12:00:00.000Z failed: no answer from GitHub',
        },
        telemetry: {
          ok: false,
          error: 'last attempt at 2026-03-02T12:00:05.000Z failed: acme/r0: telemetry: connection refused',
        },
      },
    });
    a.record('github', true);
    expect((await checkHealth(probes)).checks.github).toEqual({ ok: true });
    const down = bothProbes(async () => {
      throw new Error('file gone');
    }, a.probe('github'));
    expect(await checkHealth({ telemetry: down })).toEqual({
      ok: false,
      checks: { telemetry: { ok: false, error: 'file gone' } },
    });
  });
});
