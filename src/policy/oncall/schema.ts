import { z } from 'zod';
import { boundedDuration } from '../spec/duration-schema.ts';
import { repoPath } from '../spec/repo-path.ts';
import { DURATION_BOUNDS } from '../time/duration.ts';

// The policy's `oncall` section: the rotation as the team runs it, what each severity does, where
// notifications go, drills and postmortems. Everything is optional so a policy written before the
// rotation existed (`oncall: { users, teams }`) still loads and means what it meant.

/** `09:00` → minutes after local midnight. */
const timeOfDay = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a 24-hour time of day such as 09:00')
  .transform((s) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5)))
  .meta({ docType: '`HH:MM` (24-hour)' });

function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone.includes('/') || zone === 'UTC';
  } catch {
    return false;
  }
}

const timeZone = z
  .string()
  .refine(isZone, { message: 'expected an IANA time zone such as Europe/Berlin, America/New_York or UTC' })
  .meta({ docType: 'IANA zone' });

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const weekday = z.enum(WEEKDAYS).meta({ docType: '`mon`…`sun`' });

const login = z
  .string()
  .regex(/^@?[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'expected a GitHub login such as octocat')
  .transform((s) => s.replace(/^@/, ''))
  .meta({ docType: 'GitHub login' });

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date such as 2026-11-02')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), { message: 'not a calendar date' })
  .meta({ docType: 'date' });

/** Working hours on the wall clock of the zone they belong to. */
const hours = z.strictObject({
  days: z.array(weekday).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']).describe('the working days'),
  from: timeOfDay.prefault('09:00').describe('when the working day starts'),
  to: timeOfDay.prefault('17:00').describe('when it ends (after `from`)'),
});
export type Hours = z.output<typeof hours>;

/** A member: a login, or a login with the member's own zone and working hours. */
const member = z
  .union([
    login,
    z.strictObject({
      login,
      /** Their own zone: their working hours, ack windows and nights are on this clock. */
      timezone: timeZone.optional(),
      /** When they answer a business-hours page; default oncall.business_hours. */
      working_hours: hours.optional(),
      /** Their PagerDuty user id (PABC123): a drill acknowledged in PagerDuty is credited to them. */
      pagerduty: z
        .string()
        .regex(/^P[A-Z0-9]{5,12}$/, 'expected a PagerDuty user id such as PABC123')
        .optional(),
    }),
  ])
  .meta({ docType: 'login or {login, timezone, working_hours, pagerduty}' });
export type MemberEntry = z.output<typeof member>;
export const loginOf = (m: MemberEntry): string => (typeof m === 'string' ? m : m.login);

/**
 * A date-time in a schedule: `2026-12-24T18:00` on the rotation's wall clock (a skipped time is the
 * first instant after the gap, a repeated one its first occurrence), or with `Z` or an offset.
 */
const dateTime = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})?$/,
    'expected a date and time such as 2026-12-24T18:00 (the rotation’s time zone) or 2026-12-24T17:00Z',
  )
  .refine((s) => !Number.isNaN(Date.parse(/[Z+-]\d{0,2}:?\d{0,2}$/.test(s.slice(16)) ? s : `${s}Z`)), {
    message: 'not a calendar date and time',
  })
  .meta({ docType: 'date-time' });

const handoffShape = z
  .strictObject({
    every: z.enum(['day', 'week']),
    at: timeOfDay.prefault('09:00'),
    /** Weekly rotations: the weekday the shift changes; it must be `start`'s weekday. */
    day: weekday.optional(),
  })
  .meta({ docType: '{every: day | week, at, day}' });

/** A layer over the base rotation: where it is active (its `hours`), it takes precedence. */
const layer = z.strictObject({
  name: z
    .string()
    .regex(/^[\w.-]{1,64}$/, 'expected a short name such as follow-the-sun-eu')
    .describe('unique; swaps name it'),
  members: z
    .array(member)
    .min(1, 'a layer needs at least one member')
    .max(100, 'at most 100 members in a layer')
    .describe('in the order they take the primary shift, as `oncall.members`'),
  timezone: timeZone
    .optional()
    .meta({ docDefault: '`oncall.timezone`' })
    .describe('the clock of its handoff and hours'),
  handoff: handoffShape.describe('as `oncall.handoff`'),
  start: isoDate.describe('the date its first member took the first shift'),
  hours: z
    .strictObject({
      days: z.array(weekday).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']),
      from: timeOfDay,
      to: timeOfDay,
    })
    .optional()
    .meta({ docType: '{days, from, to}', docDefault: 'unset: always active' })
    .describe('active only inside these hours (`to` before `from` runs overnight); `days` default every day'),
});

/** One-off cover: `login` holds the role from `from` to `to`, whatever the layers say. */
const scheduleOverride = z.strictObject({
  login: login.describe('who covers'),
  from: dateTime.describe(
    '`2026-12-24T18:00` on the rotation’s clock (`timezone`), or with `Z` or an offset',
  ),
  to: dateTime.describe('the end, written as `from`'),
  role: z.enum(['primary', 'secondary']).default('primary').describe('the role they hold'),
  reason: z.string().max(200).optional().describe('why (a holiday, a conference): shown by `oncall now`'),
});

/** Two shifts of a layer (by the dates they start) exchange their primaries. */
const swap = z.strictObject({
  shifts: z
    .tuple([z.string(), z.string()])
    .refine(([a, b]) => [a, b].every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(d))), {
      message: 'expected two shift start dates such as [2026-12-21, 2026-12-28]',
    })
    .meta({ docType: '[date, date]' })
    .describe('the two shifts, by the date each starts: `[2026-12-21, 2026-12-28]`'),
  layer: z
    .string()
    .optional()
    .meta({ docDefault: 'the base rotation (`members`)' })
    .describe('the layer the shifts belong to, by name'),
});

const severityName = z.enum(['sev1', 'sev2', 'sev3']);
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

const DEFAULT_SEVERITIES = {
  sev1: { page: 'always' },
  sev2: { page: 'business_hours', unresolved_becomes: 'sev1' },
  sev3: { page: 'never' },
} as const;

const escalationStep = z.strictObject({
  to: z
    .union([z.literal('primary'), z.literal('secondary'), login])
    .describe('`primary`, `secondary`, or a GitHub login (a lead, a director)'),
  wait: boundedDuration(DURATION_BOUNDS.escalation)
    .optional()
    .meta({ docDefault: 'the ack window' })
    .describe('how long this step waits for an acknowledgement before the next'),
});

export const oncallSchema = z
  .strictObject({
    members: z
      .array(member)
      .min(1, 'a rotation needs at least one member')
      .max(100, 'at most 100 members in one rotation')
      .optional()
      .meta({ docDefault: 'unset: no rotation' })
      .describe(
        'the rotation, in the order they take the primary shift: GitHub logins (each once, any case), or `{login, timezone, working_hours}` for a member on their own clock (`pagerduty`: their PagerDuty user id, which credits a drill acknowledged there)',
      ),
    timezone: timeZone.default('UTC').describe('the clock of handoffs and business hours'),
    handoff: handoffShape
      .optional()
      .meta({ docDefault: 'required with `members`' })
      .describe(
        'when the shift changes: `{every: week, day: mon, at: "09:00"}` or `{every: day, at: "09:00"}`',
      ),
    layers: z
      .array(layer)
      .max(10, 'at most 10 layers: a schedule past that is several schedules')
      .optional()
      .meta({ docDefault: 'none' })
      .describe(
        'rotations over the base one (follow-the-sun, weekends): later layers hold the pager where active',
      ),
    overrides: z
      .array(scheduleOverride)
      .max(200, 'at most 200 overrides: remove the ones in the past')
      .optional()
      .meta({ docDefault: 'none' })
      .describe('one-off cover (holidays, sick days): the named person holds the role for that time'),
    swaps: z
      .array(swap)
      .max(200, 'at most 200 swaps: remove the ones in the past')
      .optional()
      .meta({ docDefault: 'none' })
      .describe('two shifts exchange their primaries'),
    start: isoDate
      .optional()
      .meta({ docDefault: 'required with `members`' })
      .describe('the date `members[0]` took the first shift, at `handoff.at` in `timezone`'),
    mode: z
      .enum(['primary-only', 'primary-secondary'])
      .default('primary-secondary')
      .describe('`primary-only` is a valid, honest choice for a small team: nobody pretends to be a backup'),
    business_hours: hours.prefault({}),
    ack: z
      .strictObject({
        business_hours: boundedDuration(DURATION_BOUNDS.ack)
          .prefault('5m')
          .describe('how long a responder has to acknowledge inside their working hours'),
        overnight: boundedDuration(DURATION_BOUNDS.ack).prefault('15m').describe('… and outside them'),
      })
      .prefault({}),
    escalation: z
      .array(escalationStep)
      .min(1)
      .optional()
      .meta({ docDefault: 'primary, then secondary' })
      .describe('who is asked, in order, while nobody acknowledges'),
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
      }))
      .meta({
        docType: '{sev1, sev2, sev3}',
        docDefault: 'sev1 `always`; sev2 `business_hours`, unresolved becomes sev1; sev3 `never`',
      })
      .describe(
        'what each severity does: `{page: always | business_hours | never, unresolved_becomes, channel, owner}`',
      ),
    events: z
      .strictObject({
        hard_pause: severityName.default('sev2').describe('the severity of a HARD-PAUSE'),
        revert_opened: severityName.default('sev2').describe('… of a revert pull request opened'),
        revert_failed: severityName.default('sev1').describe('… of a revert that failed'),
      })
      .prefault({}),
    notify: z
      .strictObject({
        pagerduty: z
          .strictObject({
            routing_key_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name'),
          })
          .optional()
          .meta({ docDefault: 'unset: nothing paged' })
          .describe('`{routing_key_env}`: the environment variable holding the Events API v2 routing key'),
        slack: z
          .strictObject({
            webhook_url_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name'),
          })
          .optional()
          .meta({ docDefault: 'unset: nothing posted' })
          .describe('`{webhook_url_env}`: the environment variable holding the incoming-webhook URL'),
      })
      .prefault({}),
    runbooks: z
      .strictObject({
        drill_every: boundedDuration(DURATION_BOUNDS.drill)
          .prefault('90d')
          .describe('how often every runbook must be drilled'),
        drills: repoPath
          .default('drills')
          .describe('where `budget-gate drill` writes its records, one file per drill (in the repository)'),
      })
      .prefault({}),
    postmortems: z
      .strictObject({
        dir: repoPath.default('postmortems').describe('where postmortems live (readiness reads them)'),
        template: z
          .string()
          .min(1)
          .optional()
          .meta({ docDefault: '`<dir>/TEMPLATE.md`' })
          .describe('the postmortem template'),
      })
      .prefault({}),
    users: z
      .array(z.string())
      .default([])
      .describe('reviewers always requested on a revert pull request, whoever is on call'),
    teams: z
      .array(z.string())
      .default([])
      .describe('team slugs in this organisation, requested the same way'),
  })
  .superRefine((o, ctx) => {
    duplicateMembers(o.members, ['members'], ctx);
    o.layers?.forEach((l, i) => {
      duplicateMembers(l.members, ['layers', i, 'members'], ctx);
      weeklyStart(l.handoff, l.start, ['layers', i, 'handoff', 'day'], ctx);
      if (o.layers!.findIndex((x) => x.name === l.name) !== i)
        ctx.addIssue({
          code: 'custom',
          path: ['layers', i, 'name'],
          message: `layer name "${l.name}" is already used`,
        });
    });
    conflictingDetails(o, ctx);
    o.overrides?.forEach((v, i) => {
      if (v.role === 'secondary' && o.mode === 'primary-only')
        ctx.addIssue({
          code: 'custom',
          path: ['overrides', i, 'role'],
          message: 'a primary-only rotation has no secondary to cover',
        });
    });
    o.swaps?.forEach((w, i) => {
      if (w.layer !== undefined && !o.layers?.some((l) => l.name === w.layer))
        ctx.addIssue({
          code: 'custom',
          path: ['swaps', i, 'layer'],
          message: `no layer named "${w.layer}"${o.layers?.length ? `: the layers are ${o.layers.map((l) => l.name).join(', ')}` : ''}`,
        });
      if (w.shifts[0] === w.shifts[1])
        ctx.addIssue({
          code: 'custom',
          path: ['swaps', i, 'shifts'],
          message: 'a swap needs two different shifts',
        });
      const l =
        w.layer === undefined
          ? { handoff: o.handoff, start: o.start }
          : o.layers?.find((x) => x.name === w.layer);
      if (!l?.handoff || !l.start) return;
      const len = l.handoff.every === 'day' ? 1 : 7;
      w.shifts.forEach((d, j) => {
        const days = (Date.parse(`${d}T00:00:00Z`) - Date.parse(`${l.start}T00:00:00Z`)) / 86_400_000;
        if (Number.isInteger(days) && days % len !== 0)
          ctx.addIssue({
            code: 'custom',
            path: ['swaps', i, 'shifts', j],
            message: `${d} is not the first day of a shift: shifts start every ${len} days from ${l.start}`,
          });
      });
    });
    o.overrides?.forEach((v, i) => {
      const zoned = (x: string) => /(?:Z|[+-]\d{2}:\d{2})$/.test(x);
      if (
        zoned(v.from) === zoned(v.to) &&
        Date.parse(zoned(v.from) ? v.from : `${v.from}Z`) >= Date.parse(zoned(v.to) ? v.to : `${v.to}Z`)
      )
        ctx.addIssue({
          code: 'custom',
          path: ['overrides', i, 'to'],
          message: `an override must end after it starts (${v.from})`,
        });
    });
    if (!o.members) {
      for (const key of ['handoff', 'start', 'escalation', 'layers', 'overrides', 'swaps'] as const) {
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
        message: `a rotation needs \`start\`: the date ${loginOf(o.members[0]!)} took the first shift, such as 2026-11-02`,
      });
    if (o.handoff && o.start) weeklyStart(o.handoff, o.start, ['handoff', 'day'], ctx);
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

type Ctx = z.core.$RefinementCtx;

/** `[alice, Alice]` is one person listed twice: GitHub logins are case-insensitive. */
function duplicateMembers(members: MemberEntry[] | undefined, path: Array<string | number>, ctx: Ctx): void {
  const seen = new Map<string, number>();
  members?.forEach((m, i) => {
    const key = loginOf(m).toLowerCase();
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else
      ctx.addIssue({
        code: 'custom',
        path: [...path, i],
        message: `${loginOf(m)} is already listed at ${path.join('.').replace(/\.(\d+)/g, '[$1]')}[${first}] (GitHub logins are case-insensitive): list each person once`,
      });
  });
}

function weeklyStart(
  handoff: { every: 'day' | 'week'; day?: string | undefined },
  start: string,
  path: Array<string | number>,
  ctx: Ctx,
): void {
  if (handoff.every !== 'week' || !handoff.day) return;
  const day = WEEKDAYS[(new Date(`${start}T00:00:00Z`).getUTCDay() + 6) % 7]!;
  if (handoff.day !== day)
    ctx.addIssue({
      code: 'custom',
      path,
      message: `start ${start} is a ${day}, but the weekly handoff is on ${handoff.day}: start on a handoff day`,
    });
}

/** A person's zone and hours are theirs wherever they are listed: two different ones is a mistake. */
function conflictingDetails(
  o: { members?: MemberEntry[] | undefined; layers?: Array<{ members: MemberEntry[] }> | undefined },
  ctx: Ctx,
): void {
  const seen = new Map<
    string,
    { zone?: string | undefined; hours?: string | undefined; path: Array<string | number> }
  >();
  const visit = (members: MemberEntry[] | undefined, path: Array<string | number>) =>
    members?.forEach((m, i) => {
      if (typeof m === 'string') return;
      const key = m.login.toLowerCase();
      const mine = {
        zone: m.timezone,
        hours: m.working_hours && JSON.stringify(m.working_hours),
        path: [...path, i],
      };
      const before = seen.get(key);
      if (!before) {
        seen.set(key, mine);
        return;
      }
      if (
        (before.zone && mine.zone && before.zone !== mine.zone) ||
        (before.hours && mine.hours && before.hours !== mine.hours)
      )
        ctx.addIssue({
          code: 'custom',
          path: mine.path,
          message: `${m.login} has a different timezone or working_hours at ${before.path.join('.')}: give them once`,
        });
    });
  visit(o.members, ['members']);
  o.layers?.forEach((l, i) => {
    visit(l.members, ['layers', i, 'members']);
  });
}
