import { hostname } from 'node:os';
import { z } from 'zod';
import { DEFAULT_POLICY_PATH } from '../policy/spec/load.ts';
import { parseDuration } from '../policy/time/duration.ts';
import { DEFAULT_STORE } from '../store/open.ts';
import { DEFAULT_BACKOFF_MS, DEFAULT_LEASE_MS, DEFAULT_MAX_ATTEMPTS } from './watcher.ts';

// The bot's settings, from the environment (Probot reads its own: APP_ID, PRIVATE_KEY,
// WEBHOOK_SECRET, PORT, LOG_LEVEL). Every bad value is an error naming the variable.

const duration = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      const ms = parseDuration(s);
      if (ms === null || ms <= 0) {
        ctx.addIssue({
          code: 'custom',
          message: `${name}: expected a duration such as 30s, 1m or 2m, got "${s}"`,
        });
        return z.NEVER;
      }
      return ms;
    });

/** A duration that may be zero ("0s" or "0"), e.g. no gap between writes. */
const durationOrZero = (name: string) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      if (/^0+[a-z]*$/.test(s.trim())) return 0;
      const ms = parseDuration(s);
      if (ms === null) {
        ctx.addIssue({
          code: 'custom',
          message: `${name}: expected a duration such as 0s, 250ms or 1s, got "${s}"`,
        });
        return z.NEVER;
      }
      return ms;
    });

const TEST_CLOCK_MAX_RATE = 60;
const TEST_CLOCK_MAX_AGE_MS = 30 * 60_000;

const botEnvSchema = z.object({
  BUDGET_GATE_STORE: z.string().min(1).default(DEFAULT_STORE),
  BUDGET_GATE_TICK: duration('BUDGET_GATE_TICK', '30s'),
  BUDGET_GATE_LEASE: duration('BUDGET_GATE_LEASE', `${DEFAULT_LEASE_MS / 1000}s`),
  BUDGET_GATE_REPLICA: z.string().min(1).default(`${hostname()}-${process.pid}`),
  BUDGET_GATE_POLICY_PATH: z.string().min(1).default(DEFAULT_POLICY_PATH),
  BUDGET_GATE_TELEMETRY_FILE: z.string().min(1).optional(),
  BUDGET_GATE_PROMETHEUS_URL: z.string().min(1).optional(),
  /** Revert attempts before a watch ends `failed` and says so on GitHub. */
  BUDGET_GATE_REVERT_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1, 'BUDGET_GATE_REVERT_ATTEMPTS: at least 1')
    .max(20, 'BUDGET_GATE_REVERT_ATTEMPTS: at most 20')
    .default(DEFAULT_MAX_ATTEMPTS),
  BUDGET_GATE_REVERT_BACKOFF: duration('BUDGET_GATE_REVERT_BACKOFF', `${DEFAULT_BACKOFF_MS / 1000}s`),
  /** How often to ask GitHub for webhooks the bot missed; "off" never asks. */
  BUDGET_GATE_RECOVER_EVERY: z
    .string()
    .default('5m')
    .transform((s, ctx) => {
      if (s === 'off') return null;
      const ms = parseDuration(s);
      if (ms === null) {
        ctx.addIssue({
          code: 'custom',
          message: `BUDGET_GATE_RECOVER_EVERY: expected a duration or off, got "${s}"`,
        });
        return z.NEVER;
      }
      return ms;
    }),
  /** How far back a missed webhook is still worth asking for. */
  BUDGET_GATE_RECOVER_LOOKBACK: duration('BUDGET_GATE_RECOVER_LOOKBACK', '3h'),
  BUDGET_GATE_GITHUB_WRITE_GAP: durationOrZero('BUDGET_GATE_GITHUB_WRITE_GAP'),
  /** The always-on service: evaluate every installed repository's policy on its interval ("off": only watch deployments). */
  BUDGET_GATE_EVALUATE: z.enum(['on', 'off']).default('on'),
  /** How often the evaluator looks for repositories whose interval has come round. */
  BUDGET_GATE_EVALUATE_TICK: duration('BUDGET_GATE_EVALUATE_TICK', '5s'),
  /** The operator's floor under every policy's service.interval: what one repository may cost at most. */
  BUDGET_GATE_EVALUATION_FLOOR: duration('BUDGET_GATE_EVALUATION_FLOOR', '30s'),
  /** How often the installations' repository lists are read again (webhooks also say when they change). */
  BUDGET_GATE_DISCOVER_EVERY: duration('BUDGET_GATE_DISCOVER_EVERY', '10m'),
  /** The gate's check run (its workflow job's name), re-run on held pull requests when the state changes. */
  BUDGET_GATE_GATE_CHECK: z.string().min(1).default('gate'),
  /** The check run the gate posts its decision as (the Action's `check-name` input): read into the store for the dashboard. */
  BUDGET_GATE_DECISION_CHECK: z.string().min(1).default('budget-gate'),
  /** How often the audit logs that are due (pushed to, never read, or an hour old) are read back into the store. */
  BUDGET_GATE_AUDIT_EVERY: duration('BUDGET_GATE_AUDIT_EVERY', '5m'),
  /**
   * Tests only: `<rate>x@<origin>` runs the bot's clock `rate` times as fast as the wall clock from
   * `origin` (epoch ms), so a process test lives through minutes of escalation and windows in seconds.
   */
  BUDGET_GATE_TEST_CLOCK: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s === '') return undefined;
      const m = /^(\d+)x@(\d+)$/.exec(s.trim());
      const rate = Number(m?.[1]);
      const origin = Number(m?.[2]);
      if (!m || rate < 1 || rate > TEST_CLOCK_MAX_RATE) {
        ctx.addIssue({
          code: 'custom',
          message: `BUDGET_GATE_TEST_CLOCK: expected <rate>x@<origin epoch ms> with a rate from 1 to ${TEST_CLOCK_MAX_RATE}, got "${s}"`,
        });
        return z.NEVER;
      }
      // A test sets it as it starts the bot: one left in a production environment refuses to start.
      if (Math.abs(Date.now() - origin) > TEST_CLOCK_MAX_AGE_MS) {
        ctx.addIssue({
          code: 'custom',
          message: `BUDGET_GATE_TEST_CLOCK: its origin ${new Date(origin).toISOString()} is not within the last ${TEST_CLOCK_MAX_AGE_MS / 60_000} minutes: a test's clock left set? Unset it.`,
        });
        return z.NEVER;
      }
      return { rate, origin };
    }),
});
export type BotConfig = z.output<typeof botEnvSchema>;

export function readBotConfig(env: Record<string, string | undefined>): BotConfig {
  const r = botEnvSchema.safeParse(env);
  if (!r.success) {
    throw new Error(
      r.error.issues
        .map((i) => (i.message.includes(':') ? i.message : `${i.path.join('.')}: ${i.message}`))
        .join('\n'),
    );
  }
  const c = r.data;
  if (c.BUDGET_GATE_TELEMETRY_FILE && c.BUDGET_GATE_PROMETHEUS_URL) {
    throw new Error('set BUDGET_GATE_TELEMETRY_FILE or BUDGET_GATE_PROMETHEUS_URL, not both');
  }
  if (!c.BUDGET_GATE_TELEMETRY_FILE && !c.BUDGET_GATE_PROMETHEUS_URL) {
    throw new Error(
      'no telemetry: set BUDGET_GATE_PROMETHEUS_URL (a Prometheus-compatible API) or BUDGET_GATE_TELEMETRY_FILE (JSONL task records)',
    );
  }
  if (c.BUDGET_GATE_LEASE <= c.BUDGET_GATE_TICK) {
    throw new Error(
      'BUDGET_GATE_LEASE must be longer than BUDGET_GATE_TICK, or every tick would lose its watches',
    );
  }
  return c;
}

/**
 * The bot's clock: the wall clock, or with BUDGET_GATE_TEST_CLOCK one that runs `rate` times as fast
 * from `origin` (timers still fire in wall time; every instant the bot stores or compares is this).
 */
export function botClock(c: Pick<BotConfig, 'BUDGET_GATE_TEST_CLOCK'>): () => number {
  const t = c.BUDGET_GATE_TEST_CLOCK;
  if (!t) return Date.now;
  return () => t.origin + (Date.now() - t.origin) * t.rate;
}
