import { z } from 'zod';
import { loginOf, type OncallPolicy } from './schema.ts';

// Drills as evidence: `budget-gate drill ALERT` pages the rotation with a marked test page, waits
// for the acknowledgement where it is recorded (the bot's store, PagerDuty, or the drill's issue),
// and writes one record per drill into the repository (oncall.runbooks.drills, default drills/).
// A runbook is drilled when every primary of the rotation has run it within its cadence: each one
// acknowledged a drill page of that alert and every step of the runbook was confirmed. A
// `last drilled:` line in the runbook is a claim, not evidence. Pure: records and dates come in.

export const drillRecordSchema = z.object({
  version: z.literal(1),
  alert: z.string(),
  runbook: z.string().nullable(),
  repo: z.string(),
  dedup_key: z.string(),
  paged_at: z.string(),
  /** Who the schedule said was on call when the drill paged. */
  on_call: z.object({ primary: z.string().nullable(), secondary: z.string().nullable() }),
  /** Where the test page went: pagerduty, slack, issue. */
  delivered: z.array(z.string()),
  ack_source: z.enum(['pagerduty', 'store', 'issue']),
  acknowledged: z
    .object({
      /** As the source names them: `@alice`, `Alice Example (PagerDuty PABC123)`. */
      by: z.string(),
      /** The member's GitHub login, when the source names one or the policy maps it. */
      login: z.string().nullable(),
      at: z.string(),
      seconds: z.number().nonnegative(),
    })
    .nullable(),
  steps: z.array(
    z.object({
      n: z.number().int().positive(),
      line: z.number().int().positive(),
      text: z.string(),
      confirmed_by: z.string().nullable(),
      confirmed_at: z.string().nullable(),
    }),
  ),
  /** The drill's GitHub issue, where steps are confirmed (`confirm 1 2 3`, `confirm all`). */
  issue: z.string().nullable(),
  ended: z.enum(['all-steps-confirmed', 'resolved', 'timeout']),
});
export type DrillRecord = z.output<typeof drillRecordSchema>;

/** `confirm 1 2`, `confirmed 3, 4 and 5`, `confirm all` → the step numbers (all: every one of `count`). */
export function confirmations(text: string, count: number): number[] {
  const out = new Set<number>();
  for (const m of text.matchAll(/\bconfirm(?:ed)?\s*:?\s*(all\b|\d+(?:\s*(?:,|and|&|\s)\s*\d+)*)/gi)) {
    if (/^all/i.test(m[1]!)) for (let i = 1; i <= count; i++) out.add(i);
    else
      for (const d of m[1]!.match(/\d+/g) ?? []) if (Number(d) >= 1 && Number(d) <= count) out.add(Number(d));
  }
  return [...out].sort((a, b) => a - b);
}

/** The member a PagerDuty user is (members may carry `pagerduty: PABC123`), else null. */
export function memberForPagerDutyUser(o: OncallPolicy, userId: string | null): string | null {
  if (!userId) return null;
  for (const m of [...(o.members ?? []), ...(o.layers ?? []).flatMap((l) => l.members)])
    if (typeof m !== 'string' && m.pagerduty === userId) return m.login;
  return null;
}

/** Who ran the drill: the member who acknowledged, else the one person who confirmed its steps. */
function responderOf(r: DrillRecord): string | null {
  if (r.acknowledged?.login) return r.acknowledged.login.replace(/^@/, '');
  const confirmers = new Set(r.steps.map((s) => s.confirmed_by).filter((x): x is string => !!x));
  return confirmers.size === 1 ? [...confirmers][0]!.replace(/^@/, '') : null;
}

/** Acknowledged, and every step of the runbook confirmed. */
const completeDrill = (r: DrillRecord) =>
  r.acknowledged !== null && r.steps.length > 0 && r.steps.every((s) => s.confirmed_by !== null);

/** The people who take the primary shift: the base rotation and every layer (cover is not a shift). */
export function primaries(o: OncallPolicy): string[] {
  const all = [...(o.members ?? []), ...(o.layers ?? []).flatMap((l) => l.members)].map(loginOf);
  const seen = new Map<string, string>();
  for (const l of all) if (!seen.has(l.toLowerCase())) seen.set(l.toLowerCase(), l);
  return [...seen.values()];
}

interface MemberDrill {
  login: string;
  /** Their latest complete drill of this alert, if any. */
  last: { at: number; file: string; seconds: number | null } | null;
  within: boolean;
}

export interface DrillStatus {
  /** Every primary ran it within the cadence (without a rotation: anyone did). */
  drilled: boolean;
  members: MemberDrill[];
  /** Drills of this alert that count for nobody, and why. */
  incomplete: string[];
}

/** Per member, from the records of one alert's drills. */
export function drillStatus(
  o: OncallPolicy,
  alert: string,
  records: Array<{ file: string; record: DrillRecord }>,
  today: number,
  cadenceMs: number,
): DrillStatus {
  const mine = records.filter((r) => r.record.alert === alert);
  const incomplete: string[] = [];
  const best = new Map<string, MemberDrill['last']>();
  for (const { file, record } of mine) {
    const at = Date.parse(record.paged_at);
    if (!completeDrill(record)) {
      const missing = record.steps.filter((s) => s.confirmed_by === null).map((s) => s.n);
      incomplete.push(
        `${file}: ${record.acknowledged ? `steps ${missing.join(', ')} not confirmed` : 'nobody acknowledged the page'}`,
      );
      continue;
    }
    const who = responderOf(record);
    if (!who) {
      incomplete.push(
        `${file}: acknowledged by ${record.acknowledged?.by}, who is not a member (give them \`pagerduty: <user id>\` in oncall.members)`,
      );
      continue;
    }
    const prev = best.get(who.toLowerCase());
    if (!prev || prev.at < at)
      best.set(who.toLowerCase(), { at, file, seconds: record.acknowledged?.seconds ?? null });
  }
  const people = primaries(o);
  if (people.length === 0) {
    const any = [...best.entries()].sort((a, b) => b[1]!.at - a[1]!.at)[0];
    const last = any?.[1] ?? null;
    const within = last !== null && today - last.at <= cadenceMs;
    return { drilled: within, members: any ? [{ login: any[0], last, within }] : [], incomplete };
  }
  const members = people.map((login) => {
    const last = best.get(login.toLowerCase()) ?? null;
    return { login, last, within: last !== null && last.at <= today && today - last.at <= cadenceMs };
  });
  return { drilled: members.every((m) => m.within), members, incomplete };
}
