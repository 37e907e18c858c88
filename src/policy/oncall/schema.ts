import { z } from 'zod';
import { repoPath } from '../spec/repo-path.ts';
import { type Duration, durationOf } from '../time/duration-value.ts';

// The policy's `oncall` section: the rotation as the team runs it, what each severity does, where
// notifications go, drills and postmortems. Everything is optional so a policy written before the
// rotation existed (`oncall: { users, teams }`) still loads and means what it meant.

// Its own duration parser (not schema.ts's) so schema.ts can import this file without a cycle.
const duration = z.string().transform((s, ctx): Duration => {
  const d = durationOf(s);
  if (d === null) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 5m, 1h, 1d or 1h30m' });
    return z.NEVER;
  }
  return d;
});

/** `09:00` → minutes after local midnight. */
export const timeOfDay = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a 24-hour time of day such as 09:00')
  .transform((s) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5)));

function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone.includes('/') || zone === 'UTC';
  } catch {
    return false;
  }
}

export const timeZone = z
  .string()
  .refine(isZone, { message: 'expected an IANA time zone such as Europe/Berlin, America/New_York or UTC' });

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const weekday = z.enum(WEEKDAYS);

const login = z
  .string()
  .regex(/^@?[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'expected a GitHub login such as octocat')
  .transform((s) => s.replace(/^@/, ''));

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date such as 2026-11-02')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), { message: 'not a calendar date' });

export const severityName = z.enum(['sev1', 'sev2', 'sev3']);
export type Severity = z.output<typeof severityName>;

const severityRule = z.strictObject({
  /** always: any hour; business_hours: only inside oncall.business_hours; never: the channel only. */
  page: z.enum(['always', 'business_hours', 'never']),
  /** Still unresolved at the end of the business day it was raised in: handled as this severity. */
  unresolved_becomes: severityName.optional(),
  /** Where it is posted (display name of the Slack webhook's channel). */
  channel: z.string().min(1).optional(),
  /** Who owns what lands in the channel: a GitHub login or org/team. */
  owner: z.string().min(1).optional(),
});
export type SeverityRule = z.output<typeof severityRule>;

export const DEFAULT_SEVERITIES = {
  sev1: { page: 'always' },
  sev2: { page: 'business_hours', unresolved_becomes: 'sev1' },
  sev3: { page: 'never' },
} as const;

const escalationStep = z.strictObject({
  /** `primary`, `secondary`, or a GitHub login (a lead, a director). */
  to: z.union([z.literal('primary'), z.literal('secondary'), login]),
  /** How long this step waits for an acknowledgement before the next; default the ack window. */
  wait: duration.optional(),
});

export const oncallSchema = z
  .strictObject({
    /** Rotation members (GitHub logins), in the order they take the primary shift. */
    members: z.array(login).min(1, 'a rotation needs at least one member').optional(),
    timezone: timeZone.default('UTC'),
    handoff: z
      .strictObject({
        every: z.enum(['day', 'week']),
        at: timeOfDay.prefault('09:00'),
        /** Weekly rotations: the weekday the shift changes; it must be `start`'s weekday. */
        day: weekday.optional(),
      })
      .optional(),
    /** The date members[0] took the first shift, at `handoff.at` in `timezone`. */
    start: isoDate.optional(),
    /** primary-only is a valid, honest choice for a small team: nobody is pretending to be a backup. */
    mode: z.enum(['primary-only', 'primary-secondary']).default('primary-secondary'),
    business_hours: z
      .strictObject({
        days: z.array(weekday).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
        from: timeOfDay.prefault('09:00'),
        to: timeOfDay.prefault('17:00'),
      })
      .prefault({}),
    ack: z
      .strictObject({
        business_hours: duration.prefault('5m'),
        overnight: duration.prefault('15m'),
      })
      .prefault({}),
    escalation: z.array(escalationStep).min(1).optional(),
    severities: z
      .strictObject({
        sev1: severityRule.optional(),
        sev2: severityRule.optional(),
        sev3: severityRule.optional(),
      })
      .prefault({})
      .transform((s) => ({
        sev1: s.sev1 ?? { ...DEFAULT_SEVERITIES.sev1 },
        sev2: s.sev2 ?? { ...DEFAULT_SEVERITIES.sev2 },
        sev3: s.sev3 ?? { ...DEFAULT_SEVERITIES.sev3 },
      })),
    /** The severity of what budget-gate itself decides (alerts carry their own). */
    events: z
      .strictObject({
        hard_pause: severityName.default('sev2'),
        revert_opened: severityName.default('sev2'),
        revert_failed: severityName.default('sev1'),
      })
      .prefault({}),
    notify: z
      .strictObject({
        pagerduty: z
          .strictObject({
            /** The environment variable holding the Events API v2 integration (routing) key. */
            routing_key_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name'),
          })
          .optional(),
        slack: z
          .strictObject({
            /** The environment variable holding the incoming-webhook URL. */
            webhook_url_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name'),
          })
          .optional(),
      })
      .prefault({}),
    runbooks: z.strictObject({ drill_every: duration.prefault('90d') }).prefault({}),
    postmortems: z
      .strictObject({
        dir: repoPath.default('postmortems'),
        template: z.string().min(1).optional(),
      })
      .prefault({}),
    /** Reviewers always requested on a revert, whoever is on call (the pre-rotation form). */
    users: z.array(z.string()).default([]),
    /** Team slugs in this repository's organisation. */
    teams: z.array(z.string()).default([]),
  })
  .superRefine((o, ctx) => {
    if (!o.members) {
      for (const key of ['handoff', 'start', 'escalation'] as const) {
        if (o[key] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `\`${key}\` needs a rotation: add \`members\``,
          });
      }
      return;
    }
    if (!o.handoff)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'a rotation needs `handoff`, such as { every: week, day: mon, at: "09:00" }',
      });
    if (!o.start)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `a rotation needs \`start\`: the date ${o.members[0]} took the first shift, such as 2026-11-02`,
      });
    if (o.handoff?.every === 'week' && o.start) {
      const day = WEEKDAYS[(new Date(`${o.start}T00:00:00Z`).getUTCDay() + 6) % 7]!;
      if (o.handoff.day && o.handoff.day !== day)
        ctx.addIssue({
          code: 'custom',
          path: ['handoff', 'day'],
          message: `start ${o.start} is a ${day}, but the weekly handoff is on ${o.handoff.day}: start on a handoff day`,
        });
    }
    if (o.mode === 'primary-secondary' && o.members.length < 2)
      ctx.addIssue({
        code: 'custom',
        path: ['members'],
        message:
          'one member cannot be primary and secondary: say `mode: primary-only` (valid for a small team; escalate to a named person)',
      });
    o.escalation?.forEach((s, i) => {
      if (s.to === 'secondary' && o.mode === 'primary-only')
        ctx.addIssue({
          code: 'custom',
          path: ['escalation', i, 'to'],
          message: 'a primary-only rotation has no secondary: escalate to a named person instead',
        });
    });
    if (o.business_hours.from >= o.business_hours.to)
      ctx.addIssue({
        code: 'custom',
        path: ['business_hours', 'to'],
        message: 'business hours must end after they start (same day)',
      });
  });

export type OncallPolicy = z.output<typeof oncallSchema>;
export type EscalationStep = z.output<typeof escalationStep>;
