// A clock that a test and the bot process it starts share (BUDGET_GATE_TEST_CLOCK, docs/bot.md):
// the wall clock until `start()`, then `rate` times as fast. Minutes of a policy's windows, ack
// windows and intervals pass in seconds, and every bound the policy sets stays what it says. Only
// what the bot stores and compares moves faster; timers fire in wall time. Live telemetry on the
// same clock (live-prometheus.ts) stamps each scrape with it, so Prometheus answers for those
// instants.

export interface TestClock {
  now(): number;
  /** From now on, `rate` times as fast. */
  start(): void;
  /** The bot's setting for the same clock (once started). */
  env(): { BUDGET_GATE_TEST_CLOCK: string };
}

export function fastClock(rate: number): TestClock {
  let origin: number | null = null;
  return {
    now: () => (origin === null ? Date.now() : origin + (Date.now() - origin) * rate),
    start() {
      origin ??= Date.now();
    },
    env() {
      if (origin === null) throw new Error('start the clock before handing it to a bot');
      return { BUDGET_GATE_TEST_CLOCK: `${rate}x@${origin}` };
    },
  };
}
