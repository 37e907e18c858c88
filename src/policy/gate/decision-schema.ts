import { z } from 'zod';
import { revertEvidenceSchema } from './change.ts';

// The decision value every surface renders (DESIGN.md "Decision JSON"). Keys are a contract:
// add, never rename. Times are ISO-8601 strings so the JSON reads the same everywhere.

const stateSchema = z.enum(['ship', 'soft-pause', 'hard-pause']);
export type State = z.infer<typeof stateSchema>;

const reasonSchema = z.object({
  /** Machine-readable: soft-pause, hard-pause, exhaustion, insufficient-data, telemetry-error, revert, override, … */
  code: z.string(),
  /** The policy rule that fired, as a key path: `states.soft_pause`, `risk.rules[0]`. */
  rule: z.string().nullable(),
  slo: z.string().nullable(),
  /** One sentence a person can act on, with the numbers in it. */
  message: z.string(),
});
export type Reason = z.infer<typeof reasonSchema>;

const sloReportSchema = z.object({
  name: z.string(),
  sli: z.string(),
  target: z.number(),
  window: z.string(),
  state: stateSchema,
  events: z.number().nullable(),
  bad: z.number().nullable(),
  /** Bad events the window allows: (1 - target) × events. */
  budget: z.number().nullable(),
  consumed: z.number().nullable(),
  remaining: z.number().nullable(),
  /** Calendar windows: share of the period elapsed; rolling windows: 1. */
  elapsed: z.number(),
  burn_rates: z.record(z.string(), z.number().nullable()),
  /** When the budget runs out at the current burn; null when it does not within the window. */
  projected_exhaustion: z.string().nullable(),
  insufficient_data: z.boolean(),
  quantiles: z.object({ p50: z.number(), p95: z.number(), p99: z.number() }).nullable(),
  /** Budget consumed at the end of each step of the window, for the burn chart. */
  series: z.array(z.object({ at: z.string(), consumed: z.number().nullable() })),
});
export type SloReport = z.infer<typeof sloReportSchema>;

export const firingAlertSchema = z.object({
  name: z.string(),
  slo: z.string(),
  severity: z.enum(['sev1', 'sev2', 'sev3']),
  action: z.enum(['page', 'ticket']),
  burn_rate: z.number(),
  long: z.string(),
  short: z.string(),
  long_burn: z.number(),
  short_burn: z.number(),
  runbook: z.string().nullable(),
});
export type FiringAlert = z.infer<typeof firingAlertSchema>;

const riskFileSchema = z.object({
  path: z.string(),
  class: z.enum(['high', 'low']),
  /** `risk.rules[i]` or `risk.default`. */
  rule: z.string(),
});

const overrideAppliedSchema = z.object({
  reason: z.string(),
  label: z.string(),
  applied_by: z.string(),
  applied_at: z.string(),
  expires_at: z.string(),
});
export type OverrideApplied = z.infer<typeof overrideAppliedSchema>;

const overrideRefusalSchema = z.object({
  label: z.string(),
  applied_by: z.string().nullable(),
  code: z.enum([
    'unknown-reason',
    'not-an-approver',
    'self-approval',
    /** Who wrote the change could not be read in full: nobody can be shown not to be one of them. */
    'unknown-authors',
    /** When the change was last pushed could not be read from the server: nobody can be shown to have seen it. */
    'unknown-push-time',
    'before-last-push',
    'expired',
    /** Applied after the time the decision is made for: a replay at that time cannot count it. */
    'applied-later',
  ]),
  message: z.string(),
});
export type OverrideRefusal = z.infer<typeof overrideRefusalSchema>;

export const decisionSchema = z.object({
  state: stateSchema,
  allowed: z.boolean(),
  risk: z.enum(['high', 'low']),
  /** True when the change reverts an earlier deploy: reverts always pass, and the decision says so. */
  revert: z.boolean(),
  /** What GitHub vouches for that makes it a revert; null when it is not one. */
  revert_evidence: revertEvidenceSchema.nullable(),
  reasons: z.array(reasonSchema),
  /** What the person can do next: wait, split the change, ask for an override. */
  actions: z.array(z.string()),
  slos: z.array(sloReportSchema),
  alerts: z.array(firingAlertSchema),
  risk_files: z.array(riskFileSchema),
  override: overrideAppliedSchema.nullable(),
  override_refusals: z.array(overrideRefusalSchema),
  telemetry: z.object({ source: z.string(), error: z.string().nullable() }),
  warnings: z.array(z.string()),
  /** The consumed-budget lines of the policy's states, so every surface can draw them. */
  thresholds: z.object({ soft_pause: z.number(), hard_pause: z.number() }),
  evaluated_at: z.string(),
});
export type Decision = z.infer<typeof decisionSchema>;
