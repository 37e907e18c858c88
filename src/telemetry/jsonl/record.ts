import { z } from 'zod';

// One task per line (DESIGN.md "Telemetry JSONL"). The zod schema is the contract and writes the
// error message; `fastRecord` accepts the common well-formed line without it, because zod on every
// line of a ten-million-line file would dominate the evaluation.

/** Year 9999: past it a time is not a task's, and Date cannot print it. */
export const MAX_TIME_MS = 253_402_300_799_999;

const TIME_MESSAGE =
  'expected an ISO-8601 time with an offset (2026-11-01T12:00:00Z or …+02:00) or epoch milliseconds';

const taskRecordSchema = z.object({
  time: z.union([
    z.number().int().nonnegative().max(MAX_TIME_MS),
    z.string().refine((s) => !Number.isNaN(parseTime(s)), { message: TIME_MESSAGE }),
  ]),
  ok: z.boolean(),
  latency_ms: z.number().nonnegative().optional(),
  cost_usd: z.number().nonnegative().optional(),
  attrs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

export interface TaskRecord {
  time: number;
  ok: boolean;
  latency_ms: number | undefined;
  cost_usd: number | undefined;
  attrs: Record<string, unknown> | undefined;
}

let cachedMinute = '';
let cachedMinuteMs = 0;

const digit = (s: string, i: number) => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1000;
};
const two = (s: string, i: number) => digit(s, i) * 10 + digit(s, i + 1);
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)` → ms since epoch, NaN for anything else: a time
 * without an offset would be read in the runner's zone, and Date.parse rolls impossible dates
 * (Feb 30) over. Consecutive tasks share their minute, so the calendar arithmetic is done once per
 * minute and offset, not once per line.
 */
export function parseTime(s: string): number {
  const len = s.length;
  if (len < 20 || len > 35) return Number.NaN;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84) return Number.NaN;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return Number.NaN;
  const sec = two(s, 17);
  if (!(sec >= 0 && sec < 60)) return Number.NaN;
  // Fraction: a dot and 1–9 digits.
  let i = 19;
  let fraction = 0;
  if (s.charCodeAt(i) === 46) {
    let scale = 100;
    let digits = 0;
    for (i++; i < len && digit(s, i) >= 0; i++, digits++) {
      fraction += digit(s, i) * scale;
      scale /= 10;
    }
    if (digits === 0 || digits > 9) return Number.NaN;
  }
  // Offset: Z, or ±hh:mm.
  let offsetMs = 0;
  const zone = s.slice(i);
  if (zone !== 'Z') {
    const sign = zone.charCodeAt(0) === 43 ? 1 : zone.charCodeAt(0) === 45 ? -1 : 0;
    const oh = two(zone, 1);
    const om = two(zone, 4);
    if (zone.length !== 6 || sign === 0 || zone.charCodeAt(3) !== 58 || !(oh >= 0 && oh <= 23))
      return Number.NaN;
    if (!(om >= 0 && om <= 59)) return Number.NaN;
    offsetMs = sign * (oh * 60 + om) * 60_000;
  }
  const key = s.slice(0, 16) + zone;
  if (key !== cachedMinute) {
    const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + two(s, 2);
    const month = two(s, 5);
    const day = two(s, 8);
    const hour = two(s, 11);
    const minute = two(s, 14);
    if (!(year >= 0 && month >= 1 && month <= 12 && day >= 1 && hour >= 0 && hour <= 23)) return Number.NaN;
    if (!(minute >= 0 && minute <= 59)) return Number.NaN;
    const days = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
    if (day > days) return Number.NaN;
    const d = new Date(0);
    d.setUTCFullYear(year, month - 1, day);
    d.setUTCHours(hour, minute, 0, 0);
    cachedMinute = key;
    cachedMinuteMs = d.getTime() - offsetMs;
  }
  return cachedMinuteMs + sec * 1000 + Math.floor(fraction + 1e-6);
}

/** JSON.parse reads a literal past the largest double (`1e400`) as Infinity: never a latency or a cost. */
const isOptionalNumber = (v: unknown) =>
  v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0);

/** The schema's rule for `attrs`, without zod: an object whose values are strings, numbers or booleans. */
function validAttrs(attrs: unknown): boolean {
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) return false;
  for (const key in attrs) {
    const v = (attrs as Record<string, unknown>)[key];
    const t = typeof v;
    if (t !== 'string' && t !== 'boolean' && !(t === 'number' && Number.isFinite(v))) return false;
  }
  return true;
}

function fastRecord(v: unknown): TaskRecord | null {
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  if (typeof r.ok !== 'boolean' || !isOptionalNumber(r.latency_ms) || !isOptionalNumber(r.cost_usd))
    return null;
  if (r.attrs !== undefined && !validAttrs(r.attrs)) return null;
  let time: number;
  if (typeof r.time === 'number') {
    if (!Number.isInteger(r.time) || r.time < 0 || r.time > MAX_TIME_MS) return null;
    time = r.time;
  } else if (typeof r.time === 'string') {
    time = parseTime(r.time);
    if (Number.isNaN(time)) return null;
  } else return null;
  return {
    time,
    ok: r.ok,
    latency_ms: r.latency_ms as number | undefined,
    cost_usd: r.cost_usd as number | undefined,
    attrs: r.attrs as Record<string, unknown> | undefined,
  };
}

/** What is wrong with a line, in words: the first key zod refuses and what it expected. */
function describeInvalid(v: unknown): string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return 'expected a JSON object such as {"time":"2026-11-01T12:00:00Z","ok":true}';
  }
  const result = taskRecordSchema.safeParse(v);
  if (result.success) {
    // The two agree by construction (a test holds them to it); a disagreement is a bug to report.
    return 'refused by the fast path but accepted by the schema: please report this line';
  }
  const issue = result.error.issues[0]!;
  const top = issue.path[0];
  if (typeof top === 'string' && !(top in v)) return `missing \`${top}\``;
  const key = issue.path.length ? `\`${issue.path.join('.')}\`` : 'the line';
  const value = issue.path.reduce<unknown>(
    (o, k) => (o !== null && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[k] : undefined),
    v,
  );
  if (typeof value === 'number' && !Number.isFinite(value))
    return `${key}: a number too large to be read (it reads as ${value}): expected a finite number`;
  const message =
    issue.code === 'invalid_union' && top === 'time'
      ? TIME_MESSAGE
      : top === 'attrs' && issue.path.length === 2
        ? 'expected a string, number or boolean'
        : issue.message;
  return `${key}: ${message}`;
}

export type ParsedLine = { record: TaskRecord } | { problem: string };

export function parseTaskLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return { problem: `not valid JSON (${(e as Error).message})` };
  }
  const record = fastRecord(value);
  if (record) return { record };
  return { problem: describeInvalid(value) };
}
