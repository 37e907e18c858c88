import { z } from 'zod';

// One task per line (DESIGN.md "Telemetry JSONL"). The zod schema is the contract and writes the
// error message; `fastRecord` accepts the common well-formed line without it, because zod on every
// line of a ten-million-line file would dominate the evaluation.

export const taskRecordSchema = z.object({
  time: z.union([
    z.number().int().nonnegative(),
    z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'expected an ISO-8601 time' }),
  ]),
  ok: z.boolean(),
  latency_ms: z.number().nonnegative().optional(),
  cost_usd: z.number().nonnegative().optional(),
  attrs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type TaskRecordInput = z.infer<typeof taskRecordSchema>;

export interface TaskRecord {
  time: number;
  ok: boolean;
  latency_ms: number | undefined;
  cost_usd: number | undefined;
  attrs: Record<string, unknown> | undefined;
}

let cachedMinute = '';
let cachedMinuteMs = 0;

/**
 * Date.parse, with a shortcut for the common `YYYY-MM-DDTHH:MM:SS[.sss]Z`: consecutive tasks share
 * their minute, so the calendar arithmetic is done once per minute, not once per line.
 */
export function parseTime(s: string): number {
  if (
    s.length >= 20 &&
    s.length <= 24 &&
    s.charCodeAt(10) === 84 &&
    s.charCodeAt(16) === 58 &&
    s.charCodeAt(s.length - 1) === 90
  ) {
    const minute = s.slice(0, 16);
    if (minute !== cachedMinute) {
      const ms = Date.parse(`${minute}:00Z`);
      if (Number.isNaN(ms)) return Date.parse(s);
      cachedMinute = minute;
      cachedMinuteMs = ms;
    }
    const seconds = Number(s.slice(17, -1));
    if (seconds >= 0 && seconds < 60) return cachedMinuteMs + Math.round(seconds * 1000);
  }
  return Date.parse(s);
}

const isOptionalNumber = (v: unknown) => v === undefined || (typeof v === 'number' && v >= 0);

function fastRecord(v: unknown): TaskRecord | null {
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  if (typeof r.ok !== 'boolean' || !isOptionalNumber(r.latency_ms) || !isOptionalNumber(r.cost_usd))
    return null;
  if (r.attrs !== undefined && (typeof r.attrs !== 'object' || r.attrs === null || Array.isArray(r.attrs)))
    return null;
  let time: number;
  if (typeof r.time === 'number') {
    if (!Number.isInteger(r.time) || r.time < 0) return null;
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
    // zod accepted what the fast path refused: attribute values the fast path does not check.
    return '`attrs` values must be strings, numbers or booleans';
  }
  const issue = result.error.issues[0]!;
  const top = issue.path[0];
  if (typeof top === 'string' && !(top in v)) return `missing \`${top}\``;
  const key = issue.path.length ? `\`${issue.path.join('.')}\`` : 'the line';
  const message =
    issue.code === 'invalid_union' && top === 'time'
      ? 'expected an ISO-8601 time or epoch milliseconds'
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
