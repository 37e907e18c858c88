import { z } from 'zod';
import { oncallSchema } from '../oncall/schema.ts';
import { DURATION_BOUNDS, type DurationBounds, durationProblem } from '../time/duration.ts';
import { type Duration, durationOf } from '../time/duration-value.ts';
import { parseWindow, type Window } from '../time/window.ts';
import { runbookRef } from './repo-path.ts';

// The policy file's contract (DESIGN.md "Policy file"). Every number has a default so a minimal
// policy is just `version` and `slos`; every object is strict so a typo is an error, not a no-op.

// Parse, don't validate: a duration or window leaves the loader as a typed value (milliseconds next
// to the text), so nothing downstream parses a policy string again. Defaults go through the same
// parse (`prefault`), never around it.
/** A duration between `bounds` (duration.ts says why each kind has the bounds it has). */
const boundedDuration = (bounds: DurationBounds) =>
  z.string().transform((s, ctx): Duration => {
    const problem = durationProblem(s, bounds);
    const d = problem === null ? durationOf(s) : null;
    if (d === null) {
      ctx.addIssue({ code: 'custom', message: problem ?? 'expected a duration such as 5m, 1h, 1d or 1h30m' });
      return z.NEVER;
    }
    return d;
  });

const fraction = (what: string) =>
  z.number().min(0, `${what} must be between 0 and 1`).max(10, `${what} must be a fraction such as 0.5`);

/** `0.95`, `95%` and `99.9%` all mean the same target; 100% and above are refused. */
const targetSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  let n: number;
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: 'expected a target such as 0.95 or "95%"' });
      return z.NEVER;
    }
    n = Number(m[1]) / 100;
  } else {
    n = v;
  }
  if (n >= 1) {
    ctx.addIssue({
      code: 'custom',
      message:
        n === 1
          ? 'a target of 100% leaves no error budget: use a target below 100%, such as 0.999'
          : `target ${v} is not below 100%: write it as a fraction (0.95) or a percentage ("95%")`,
    });
    return z.NEVER;
  }
  if (n <= 0) {
    ctx.addIssue({ code: 'custom', message: 'target must be above 0%' });
    return z.NEVER;
  }
  return n;
});

export const windowString = z.string().transform((s, ctx): Window => {
  const w = parseWindow(s);
  const problem =
    w === null
      ? 'expected a rolling window such as 7d, 28d or 30d, or a calendar window: week or month'
      : w.kind === 'rolling'
        ? durationProblem(s, DURATION_BOUNDS.window)
        : null;
  if (w === null || problem !== null) {
    ctx.addIssue({ code: 'custom', message: problem ?? 'expected a window' });
    return z.NEVER;
  }
  return w;
});

const sliSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('success') }),
  z.strictObject({ kind: z.literal('latency'), threshold_ms: z.number().positive() }),
  z.strictObject({ kind: z.literal('cost'), threshold_usd: z.number().positive() }),
]);

/** Task attributes an SLO covers: `all`, or a map of attribute → value (or list of values). */
const scopeSchema = z.union([
  z.literal('all'),
  z
    .record(z.string(), z.union([z.string(), z.array(z.string()).min(1)]))
    .refine((r) => Object.keys(r).length > 0, {
      message: 'scope needs at least one attribute, or `all` for every task',
    }),
]);

/** Where a Prometheus-compatible server keeps this SLO's SLI. `${window}` is replaced by a range. */
const prometheusSourceSchema = z.union([
  z.strictObject({ bad: z.string().min(1), total: z.string().min(1) }),
  z.strictObject({ good: z.string().min(1), total: z.string().min(1) }),
  z.strictObject({
    sloth: z.strictObject({ service: z.string().min(1), slo: z.string().min(1) }),
  }),
  z.strictObject({ pyrra: z.strictObject({ slo: z.string().min(1) }) }),
]);

const sloSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a name of letters, digits, . _ -'),
  description: z.string().optional(),
  sli: sliSchema,
  target: targetSchema,
  window: windowString,
  scope: scopeSchema,
  min_events: z.number().int().nonnegative().optional(),
  source: z.strictObject({ prometheus: prometheusSourceSchema }).optional(),
});

const decisionOnGap = z.enum(['allow', 'block']);

const statesSchema = z
  .strictObject({
    hard_pause: z
      .strictObject({
        consumed: fraction('hard_pause.consumed').default(1),
        /** Also hard-pause when the budget is projected to run out within this time at the current burn. */
        exhaustion_within: boundedDuration(DURATION_BOUNDS.lookback).optional(),
      })
      .prefault({}),
    soft_pause: z
      .strictObject({
        consumed: fraction('soft_pause.consumed').default(0.5),
        /** Calendar windows: soft-pause when consumed > elapsed fraction × pace_factor. */
        pace_factor: z.number().positive().default(1),
        /** Rolling windows: soft-pause when the burn rate over this lookback exceeds pace_factor. */
        pace_lookback: boundedDuration(DURATION_BOUNDS.lookback).prefault('1d'),
      })
      .prefault({}),
    min_events: z.number().int().nonnegative().default(100),
    /** Unset: block high-risk changes and let low-risk ones through. */
    on_insufficient_data: decisionOnGap.optional(),
    on_telemetry_error: decisionOnGap.default('block'),
    /**
     * How old the newest data may be at the evaluation time before reading it is a telemetry error
     * (then on_telemetry_error decides): one duration for every source, or per source. Unset, each
     * source's default (src/telemetry/freshness.ts).
     */
    max_data_age: z
      .union([
        boundedDuration(DURATION_BOUNDS.lookback),
        z.strictObject({
          jsonl: boundedDuration(DURATION_BOUNDS.lookback).optional(),
          prometheus: boundedDuration(DURATION_BOUNDS.lookback).optional(),
        }),
      ])
      .optional(),
  })
  .prefault({});

const riskClass = z.enum(['high', 'low']);

const riskSchema = z
  .strictObject({
    default: riskClass.default('low'),
    rules: z
      .array(
        z.strictObject({
          paths: z.array(z.string().min(1)).min(1),
          class: riskClass,
          description: z.string().optional(),
        }),
      )
      .default([]),
  })
  .prefault({});

export const permissionLevel = z.enum(['read', 'triage', 'write', 'maintain', 'admin']);

export const overridesSchema = z
  .strictObject({
    reasons: z
      .array(
        z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a reason such as slo-wrong')
          // GitHub label names are at most 50 characters, and the label is `override:<reason>`.
          .max(41, 'at most 41 characters: `override:<reason>` must fit GitHub’s 50-character label limit'),
      )
      .min(1)
      .default(['slo-wrong', 'catastrophic-event', 'regulatory']),
    approvers: z
      .strictObject({
        users: z.array(z.string()).default([]),
        /** `org/team-slug`. */
        teams: z.array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected org/team-slug')).default([]),
        min_permission: permissionLevel.optional(),
      })
      .prefault({}),
    expires_after: boundedDuration(DURATION_BOUNDS.expiry).prefault('24h'),
    audit: z
      .strictObject({
        branch: z.string().min(1).default('budget-gate/audit'),
        path: z.string().min(1).default('audit.jsonl'),
      })
      .prefault({}),
  })
  .prefault({});

/**
 * The control series: `split` a canary/stable split labelled by a task attribute (the new version
 * judged against the stable one over the same minutes); `scope` tasks the deploy does not touch
 * (another environment or tier), each SLO's SLI read over that scope instead. JSONL attributes.
 */
const controlSchema = z.union([
  z.strictObject({
    split: z.strictObject({
      by: z.string().min(1),
      canary: z.string().min(1).default('canary'),
      stable: z.string().min(1).default('stable'),
    }),
  }),
  z.strictObject({ scope: scopeSchema }),
]);

const autoRevertSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** The GitHub App (its slug) whose own revert pull requests always pass the gate. */
    app: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a GitHub App slug such as budget-gate')
      .default('budget-gate'),
    /** Share of the SLO window's budget one deployment may burn before it is reverted. */
    consumed: fraction('auto_revert.consumed').default(0.2),
    within: boundedDuration(DURATION_BOUNDS.watch).prefault('60m'),
    interval: boundedDuration(DURATION_BOUNDS.interval).prefault('1m'),
    /** How far before the deployment the baseline bad-event rate is measured. */
    baseline: boundedDuration(DURATION_BOUNDS.watch).prefault('1h'),
    /** Allow the threshold to be reached by projection once `min_events` post-deploy tasks are seen. */
    projected: z.boolean().default(false),
    min_events: z.number().int().nonnegative().default(50),
    merge: z.enum(['manual', 'auto']).default('manual'),
    /** How sure the judge must be, over every look of the watch, before it reverts (canary-judge.ts). */
    confidence: z
      .number()
      .gt(0.5, 'auto_revert.confidence must be above 0.5, such as 0.99')
      .lt(1, 'auto_revert.confidence must be below 1: certainty never comes')
      .default(0.99),
    /** Revert a deploy whose attributable burn rate (its extra bad ratio / (1 - target)) is at least this; the default is the fast-burn page's rate. */
    burn_rate: z.number().positive().default(14.4),
    /** The baseline's last minutes: when they were worse (an outage in progress) the deploy must beat them too. */
    recent: boundedDuration(DURATION_BOUNDS.watch).prefault('15m'),
    /** `shadow` judges the same way but only reports what it would have done. */
    mode: z.enum(['enforce', 'shadow']).default('enforce'),
    /**
     * A task attribute naming the cluster failures come in (a customer, a session): a cluster's
     * bad tasks count once per three intervals (retries of one failure), JSONL only.
     */
    cluster_by: z.string().min(1).optional(),
    /** A series the deploy does not touch, to difference out what hits both (canary-judge.ts). */
    control: controlSchema.optional(),
  })
  .prefault({});

/** The always-on service: the bot evaluates the default branch's policy on its own, not only when a change asks. */
const serviceSchema = z
  .strictObject({
    /** How often; the floor (10s) bounds what one repository costs the bot and its metrics source. */
    interval: boundedDuration(DURATION_BOUNDS.evaluation).prefault('1m'),
  })
  .prefault({});

export const alertSchema = z.strictObject({
  name: z.string().min(1),
  severity: z.enum(['sev1', 'sev2', 'sev3']),
  burn_rate: z.number().positive(),
  long: boundedDuration(DURATION_BOUNDS.lookback),
  short: boundedDuration(DURATION_BOUNDS.lookback),
  action: z.enum(['page', 'ticket']).default('page'),
  /** A markdown file in the repository (checked by `runbooks lint`), or a URL (checked for shape only). */
  runbook: runbookRef.optional(),
  /** How often this alert's runbook must be drilled; default oncall.runbooks.drill_every. */
  drill_every: boundedDuration(DURATION_BOUNDS.drill).optional(),
});

/** The SRE workbook's multi-window multi-burn-rate table. */
export const DEFAULT_ALERTS: z.input<typeof alertSchema>[] = [
  { name: 'fast-burn', severity: 'sev1', burn_rate: 14.4, long: '1h', short: '5m', action: 'page' },
  { name: 'steady-burn', severity: 'sev2', burn_rate: 6, long: '6h', short: '30m', action: 'page' },
  { name: 'slow-burn', severity: 'sev3', burn_rate: 3, long: '1d', short: '2h', action: 'ticket' },
  { name: 'creeping-burn', severity: 'sev3', burn_rate: 1, long: '3d', short: '6h', action: 'ticket' },
];

export const policySchema = z.strictObject({
  version: z.literal(1),
  slos: z.array(sloSchema).min(1, 'a policy needs at least one SLO'),
  states: statesSchema,
  risk: riskSchema,
  overrides: overridesSchema,
  auto_revert: autoRevertSchema,
  alerts: z.array(alertSchema).prefault(DEFAULT_ALERTS),
  oncall: oncallSchema.prefault({}),
  service: serviceSchema,
  /** Deployment environments the bot watches and the gate protects. */
  environments: z.array(z.string().min(1)).default(['production']),
});

export type Policy = z.output<typeof policySchema>;
export type Slo = z.output<typeof sloSchema>;
export type PrometheusSource = z.output<typeof prometheusSourceSchema>;
export type Alert = z.output<typeof alertSchema>;
export type RiskClass = z.output<typeof riskClass>;
export type PermissionLevel = z.output<typeof permissionLevel>;
export type OverridesPolicy = z.output<typeof overridesSchema>;
