import { z } from 'zod';
import { oncallSchema } from '../oncall/schema.ts';
import { DURATION_BOUNDS, durationProblem, formatDuration } from '../time/duration.ts';
import { parseWindow, type Window } from '../time/window.ts';
import { boundedDuration } from './duration-schema.ts';
import { runbookRef } from './repo-path.ts';

// The policy file's contract (DESIGN.md "Policy file"). Every number has a default so a minimal
// policy is just `version` and `slos`; every object is strict so a typo is an error, not a no-op.

// Every key says what it means (`.describe()`) and, where the JSON type says too little, how it is
// written (`docType`) or what leaving it out means (`docDefault`): docs/policy.md's key tables are
// generated from them (`npm run docs`, scripts/docs/policy-keys.ts), so the reference cannot drift.

// Parse, don't validate: a duration or window leaves the loader as a typed value, and defaults go
// through the same parse (`prefault`), never around it.
const fraction = (what: string) =>
  z
    .number()
    .min(0, `${what} must be between 0 and 1`)
    .max(10, `${what} must be a fraction such as 0.5`)
    .meta({ docType: 'fraction (`0.5` is 50%)' });

/** `0.95`, `95%` and `99.9%` all mean the same target; 100% and above are refused. */
const targetSchema = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
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
  })
  .meta({ docType: '`0.95` or `"95%"`' });

export const windowString = z
  .string()
  .transform((s, ctx): Window => {
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
  })
  .meta({
    docType: `duration, ${formatDuration(DURATION_BOUNDS.window.min)}–${formatDuration(DURATION_BOUNDS.window.max)}; or \`week\` | \`month\``,
  });

const sliSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('success') }),
    z.strictObject({ kind: z.literal('latency'), threshold_ms: z.number().positive() }),
    z.strictObject({ kind: z.literal('cost'), threshold_usd: z.number().positive() }),
  ])
  .meta({ docType: '{kind, threshold_ms | threshold_usd}' });

/** Task attributes an SLO covers: `all`, or a map of attribute → value (or list of values). */
const scopeSchema = z
  .union([
    z.literal('all'),
    z
      .record(z.string(), z.union([z.string(), z.array(z.string()).min(1)]))
      .refine((r) => Object.keys(r).length > 0, {
        message: 'scope needs at least one attribute, or `all` for every task',
      }),
  ])
  .meta({ docType: '`all` or map' });

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
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a name of letters, digits, . _ -')
    .describe('unique; letters, digits, `. _ -`'),
  description: z.string().optional().describe('for people: shown nowhere the decision depends on it'),
  sli: sliSchema.describe(
    'what makes a task bad: `{kind: success}` (its `ok`), `{kind: latency, threshold_ms}` or `{kind: cost, threshold_usd}` (above the threshold)',
  ),
  target: targetSchema.describe('the share of tasks that must be good: above 0, below 100%'),
  window: windowString.describe(
    'the budget period: rolling (`7d`, `28d`, `30d`, `12h`…), or `week` / `month` (UTC)',
  ),
  scope: scopeSchema.describe(
    'the tasks the SLO covers: `all`, or task attributes such as `{tier: paid, service: [refunds, billing]}`',
  ),
  min_events: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .meta({ docDefault: '`states.min_events`' })
    .describe('traffic floor for this SLO'),
  source: z
    .strictObject({ prometheus: prometheusSourceSchema })
    .optional()
    .meta({ docType: '{prometheus: …}', docDefault: 'unset: the JSONL file' })
    .describe(
      'where a Prometheus-compatible server keeps the SLI: `{bad, total}` or `{good, total}` queries, or the recording rules of `{sloth: {service, slo}}` or `{pyrra: {slo}}` (see [Telemetry](telemetry.md#prometheus-and-compatible-backends))',
    ),
});

const decisionOnGap = z.enum(['allow', 'block']);

const statesSchema = z
  .strictObject({
    hard_pause: z
      .strictObject({
        consumed: fraction('hard_pause.consumed')
          .default(1)
          .describe('hard pause at or past this share consumed'),
        exhaustion_within: boundedDuration(DURATION_BOUNDS.lookback)
          .optional()
          .describe(
            'also hard pause when the budget is projected to run out within this time at the current burn',
          ),
      })
      .prefault({}),
    soft_pause: z
      .strictObject({
        consumed: fraction('soft_pause.consumed')
          .default(0.5)
          .describe('soft pause from this share consumed…'),
        pace_factor: z
          .number()
          .positive()
          .default(1)
          .describe(
            '…when burning faster than this: the burn rate over `pace_lookback` (rolling windows), or consumed against the elapsed share of the period (calendar windows)',
          ),
        pace_lookback: boundedDuration(DURATION_BOUNDS.lookback)
          .prefault('1d')
          .describe('the lookback for pace on rolling windows and for projections'),
      })
      .prefault({}),
    min_events: z
      .number()
      .int()
      .nonnegative()
      .default(100)
      .describe('tasks in the window below which an SLO is not judged'),
    on_insufficient_data: decisionOnGap
      .optional()
      .meta({ docDefault: 'unset: block high risk, allow low' })
      .describe('what an SLO with too few tasks does to a change'),
    on_telemetry_error: decisionOnGap
      .default('block')
      .describe('what happens to a change when telemetry cannot be read (or is too old)'),
    max_data_age: z
      .union([
        boundedDuration(DURATION_BOUNDS.lookback),
        z.strictObject({
          jsonl: boundedDuration(DURATION_BOUNDS.lookback).optional(),
          prometheus: boundedDuration(DURATION_BOUNDS.lookback).optional(),
        }),
      ])
      .optional()
      .meta({ docType: 'duration or {jsonl, prometheus}', docDefault: '`jsonl: 6h`, `prometheus: 10m`' })
      .describe(
        'newest data older than this at the evaluation time is a telemetry error, and `on_telemetry_error` decides (one duration for every source, or per source)',
      ),
  })
  .prefault({});

const riskClass = z.enum(['high', 'low']);

const riskSchema = z
  .strictObject({
    default: riskClass.default('low').describe('class of files no rule matches, and of an empty change set'),
    rules: z
      .array(
        z.strictObject({
          paths: z
            .array(z.string().min(1))
            .min(1)
            .describe('picomatch globs, dotfiles included (`lint` warns about one an earlier rule shadows)'),
          class: riskClass.describe('the class of the files it matches'),
          description: z.string().optional().describe('why, for people'),
        }),
      )
      .default([])
      .describe('in order: the first rule whose `paths` match a file sets its class'),
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
      .default(['slo-wrong', 'catastrophic-event', 'regulatory'])
      .describe('the allowed `override:<reason>` labels'),
    approvers: z
      .strictObject({
        users: z.array(z.string()).default([]).describe('GitHub logins who may approve'),
        teams: z
          .array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected org/team-slug'))
          .default([])
          .describe('teams (`org/team-slug`) whose members may approve'),
        min_permission: permissionLevel
          .optional()
          .meta({ docDefault: 'unset: `maintain`, when no users or teams are named' })
          .describe('anyone with this permission on the repository or higher may approve'),
      })
      .prefault({}),
    expires_after: boundedDuration(DURATION_BOUNDS.expiry)
      .prefault('24h')
      .describe('an override label older than this no longer counts'),
    audit: z
      .strictObject({
        branch: z.string().min(1).default('budget-gate/audit').describe('the branch the audit log lives on'),
        path: z.string().min(1).default('audit.jsonl').describe('the audit log’s path on that branch'),
      })
      .prefault({}),
  })
  .prefault({});

/**
 * The control series: `split` a canary/stable split labelled by a task attribute (the new version
 * judged against the stable one over the same minutes); `scope` tasks the deploy does not touch
 * (another environment or tier), each SLO's SLI read over that scope instead. JSONL attributes.
 */
const controlSchema = z
  .union([
    z.strictObject({
      split: z.strictObject({
        by: z.string().min(1),
        canary: z.string().min(1).default('canary'),
        stable: z.string().min(1).default('stable'),
      }),
    }),
    z.strictObject({ scope: scopeSchema }),
  ])
  .meta({ docType: '{split: {by, canary, stable}} or {scope}' });

const autoRevertSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('the canary bot reverts on a breach'),
    app: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a GitHub App slug such as budget-gate')
      .default('budget-gate')
      .describe('the GitHub App (its slug) whose own revert pull requests always pass the gate'),
    consumed: fraction('auto_revert.consumed')
      .default(0.2)
      .describe(
        'share rule: the attributable share of the window’s budget one deployment may burn before it is reverted',
      ),
    within: boundedDuration(DURATION_BOUNDS.watch)
      .prefault('60m')
      .describe('how long after going live a deployment is watched'),
    interval: boundedDuration(DURATION_BOUNDS.interval)
      .prefault('1m')
      .describe('how often the bot evaluates a watch'),
    baseline: boundedDuration(DURATION_BOUNDS.watch)
      .prefault('1h')
      .describe('the pre-deploy span the baseline bad ratio is measured over'),
    projected: z
      .boolean()
      .default(false)
      .describe(
        'share rule: judge the share by the end of the watch at the traffic so far, once `min_events` tasks are seen',
      ),
    min_events: z
      .number()
      .int()
      .nonnegative()
      .default(50)
      .describe('tasks after the deploy before a revert can happen'),
    merge: z
      .enum(['manual', 'auto'])
      .default('manual')
      .describe('`auto` enables auto-merge on the revert pull request'),
    confidence: z
      .number()
      .gt(0.5, 'auto_revert.confidence must be above 0.5, such as 0.99')
      .lt(1, 'auto_revert.confidence must be below 1: certainty never comes')
      .default(0.99)
      .describe('how sure the judge must be, over every look of the watch, before it reverts'),
    burn_rate: z
      .number()
      .positive()
      .default(14.4)
      .describe(
        'rate rule: revert a deploy whose attributable burn rate (its extra bad ratio / (1 - target)) is at least this; the default is the fast-burn page’s rate',
      ),
    recent: boundedDuration(DURATION_BOUNDS.watch)
      .prefault('15m')
      .describe(
        'the baseline’s last stretch: when it was worse (an outage in progress), the deploy must beat it too',
      ),
    mode: z
      .enum(['enforce', 'shadow'])
      .default('enforce')
      .describe('`shadow` judges the same way but only reports "would revert" (deployment status, comment)'),
    cluster_by: z
      .string()
      .min(1)
      .optional()
      .describe(
        'a task attribute naming the cluster failures come in (`customer`, `session`): a cluster counts up to its first failure in each three `interval`s (JSONL; see [The canary judge](bot.md#the-canary-judge))',
      ),
    control: controlSchema
      .optional()
      .describe(
        'a series the deploy does not touch, to difference out what hits both: a canary/stable `split` labelled by a task attribute, or another `scope` (JSONL attributes)',
      ),
  })
  .prefault({});

/** The always-on service: the bot evaluates the default branch's policy on its own, not only when a change asks. */
const serviceSchema = z
  .strictObject({
    interval: boundedDuration(DURATION_BOUNDS.evaluation)
      .prefault('1m')
      .describe(
        'how often the bot evaluates the default branch’s policy against live telemetry; the floor bounds what one repository costs the bot and its metrics source',
      ),
  })
  .prefault({});

export const alertSchema = z.strictObject({
  name: z.string().min(1).describe('shown in pages, tickets and the decision'),
  severity: z.enum(['sev1', 'sev2', 'sev3']).describe('routed by `oncall.severities`'),
  burn_rate: z.number().positive().describe('fires when the burn rate over both windows is at least this'),
  long: boundedDuration(DURATION_BOUNDS.lookback).describe(
    'the long window (how much budget it takes to fire)',
  ),
  short: boundedDuration(DURATION_BOUNDS.lookback).describe(
    'the short window (how fast it resets once the burn stops)',
  ),
  action: z.enum(['page', 'ticket']).default('page').describe('`ticket` never pages'),
  runbook: runbookRef
    .optional()
    .meta({ docType: 'URL or path' })
    .describe('an http(s) URL, or a repository path to a `.md` file (`runbooks lint` checks it)'),
  drill_every: boundedDuration(DURATION_BOUNDS.drill)
    .optional()
    .meta({ docDefault: '`oncall.runbooks.drill_every`' })
    .describe('how often this alert’s runbook must be drilled'),
});

/** The SRE workbook's multi-window multi-burn-rate table. */
export const DEFAULT_ALERTS: z.input<typeof alertSchema>[] = [
  { name: 'fast-burn', severity: 'sev1', burn_rate: 14.4, long: '1h', short: '5m', action: 'page' },
  { name: 'steady-burn', severity: 'sev2', burn_rate: 6, long: '6h', short: '30m', action: 'page' },
  { name: 'slow-burn', severity: 'sev3', burn_rate: 3, long: '1d', short: '2h', action: 'ticket' },
  { name: 'creeping-burn', severity: 'sev3', burn_rate: 1, long: '3d', short: '6h', action: 'ticket' },
];

export const policySchema = z.strictObject({
  version: z.literal(1).describe('the policy format’s version'),
  slos: z.array(sloSchema).min(1, 'a policy needs at least one SLO').describe('the SLOs, at least one'),
  states: statesSchema.describe(
    'when rollouts pause: the budget lines of SOFT-PAUSE and HARD-PAUSE, and gaps in the data',
  ),
  risk: riskSchema.describe('which files make a change high risk (held by a SOFT-PAUSE) or low risk'),
  overrides: overridesSchema.describe(
    'the `override:<reason>` labels, who may apply them, and the audit log',
  ),
  auto_revert: autoRevertSchema.describe('the canary bot’s watch of each deployment and when it reverts'),
  alerts: z
    .array(alertSchema)
    .prefault(DEFAULT_ALERTS)
    .meta({
      docDefault: DEFAULT_ALERTS.map(
        (a) => `${a.name} (${a.severity}, ${a.burn_rate}x over ${a.long} and ${a.short}, ${a.action})`,
      ).join('; '),
    })
    .describe(
      'multi-window burn-rate alerts: each fires when the burn over both its windows is at least its rate',
    ),
  oncall: oncallSchema
    .prefault({})
    .describe(
      'the rotation, paging, escalation, runbook drills and postmortems ([the on-call loop](oncall.md))',
    ),
  service: serviceSchema.describe('the bot’s always-on evaluation of the default branch'),
  environments: z
    .array(z.string().min(1))
    .default(['production'])
    .describe('deployment environments the bot watches and the gate protects'),
});

export type Policy = z.output<typeof policySchema>;
export type Slo = z.output<typeof sloSchema>;
export type PrometheusSource = z.output<typeof prometheusSourceSchema>;
export type Alert = z.output<typeof alertSchema>;
export type RiskClass = z.output<typeof riskClass>;
export type PermissionLevel = z.output<typeof permissionLevel>;
export type OverridesPolicy = z.output<typeof overridesSchema>;
