import { createHash } from 'node:crypto';
import { z } from 'zod';

// The override audit log: JSONL, one record per line, each chained to the previous one by
// SHA-256 so an edited, reordered or deleted record is found by `verifyChain`.

export const auditEntrySchema = z.object({
  kind: z.enum(['override-applied', 'override-refused', 'revert-passed']),
  /** owner/name */
  repo: z.string(),
  pull_request: z.number().int().nullable(),
  sha: z.string().nullable(),
  label: z.string(),
  reason: z.string().nullable(),
  actor: z.string().nullable(),
  /** The change's author, when known. */
  author: z.string().nullable(),
  at: z.string(),
  /** The gate's state when the override was used or refused. */
  state: z.enum(['ship', 'soft-pause', 'hard-pause']).nullable(),
  message: z.string(),
  /** Per-SLO figures at the time, for the retro. */
  slos: z
    .array(z.object({ name: z.string(), consumed: z.number().nullable(), state: z.string() }))
    .default([]),
  source: z.enum(['action', 'bot', 'cli']),
});
export type AuditEntry = z.input<typeof auditEntrySchema>;

export const auditRecordSchema = auditEntrySchema.extend({
  seq: z.number().int().positive(),
  prev_hash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AuditRecord = z.output<typeof auditRecordSchema>;

/** The previous hash of the first record. */
export const GENESIS = '0'.repeat(64);

/** JSON with keys sorted at every level, so the hash does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

export function chainRecord(prev: AuditRecord | null, entry: AuditEntry): AuditRecord {
  const body = {
    ...auditEntrySchema.parse(entry),
    seq: (prev?.seq ?? 0) + 1,
    prev_hash: prev?.hash ?? GENESIS,
  };
  return { ...body, hash: hashRecord(body) };
}

export function serializeRecord(record: AuditRecord): string {
  return `${canonicalJson(record)}\n`;
}

export type AuditVerification =
  | { ok: true; count: number; last: AuditRecord | null; records: AuditRecord[] }
  | { ok: false; line: number; seq: number | null; problem: string };

/** The strict form verification parses with: a key the writer never writes is an added key. */
const strictRecordSchema = auditRecordSchema.strict();

/**
 * Checks every byte of the log: each line must be exactly the canonical serialization of its
 * record followed by `\n` (so an added, duplicated or reordered key, or whitespace, is found even
 * though it would not change the parsed record), then every link of the chain. Reports the first
 * line at fault.
 */
export function verifyChain(text: string): AuditVerification {
  const lines = text.split('\n');
  // A log ends with a newline: the last piece is empty. Anything there is a record without one.
  const last = lines.pop()!;
  if (last !== '') lines.push(last);
  const records: AuditRecord[] = [];
  let prev: AuditRecord | null = null;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = i + 1;
    const fail = (problem: string, seq: number | null = null) => ({ ok: false, line, seq, problem }) as const;
    if (raw.trim() === '') return fail('a blank line: the log holds one record per line and nothing else');
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      return fail(`not valid JSON (${(e as Error).message})`);
    }
    const dup = duplicateKey(raw);
    const seqOf = (json as { seq?: unknown } | null)?.seq;
    const claimed = typeof seqOf === 'number' ? seqOf : null;
    if (dup !== null)
      return fail(`the key \`${dup}\` appears twice in one object: a record has each key once`, claimed);
    const parsed = strictRecordSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => `\`${k}\``).join(', ');
        return fail(`an added key ${keys}: not part of an audit record`, claimed);
      }
      return fail(`not an audit record: ${issue.path.join('.')}: ${issue.message}`, claimed);
    }
    const rec = parsed.data;
    if (i === lines.length - 1 && last !== '') {
      return fail(
        `record ${rec.seq} does not end with a newline: every record is one line ending in \\n`,
        rec.seq,
      );
    }
    const canonical = canonicalJson(rec);
    if (canonical !== raw) return fail(notCanonical(rec.seq, raw, canonical), rec.seq);
    const expectedSeq = (prev?.seq ?? 0) + 1;
    if (rec.seq !== expectedSeq) {
      return fail(
        rec.seq > expectedSeq
          ? `record ${expectedSeq} is missing (found ${rec.seq})`
          : `record ${rec.seq} is out of order (expected ${expectedSeq})`,
        rec.seq,
      );
    }
    if (rec.prev_hash !== (prev?.hash ?? GENESIS)) {
      return fail(
        `record ${rec.seq} does not chain to record ${expectedSeq - 1}: the log was reordered or a record replaced`,
        rec.seq,
      );
    }
    const { hash, ...body } = rec;
    if (hashRecord(body) !== hash) {
      return fail(`record ${rec.seq} was edited: its hash does not match its content`, rec.seq);
    }
    records.push(rec);
    prev = rec;
  }
  return { ok: true, count: records.length, last: prev, records };
}

/** Where the line first differs from the record's canonical bytes, shown on both sides. */
function notCanonical(seq: number, raw: string, canonical: string): string {
  let at = 0;
  while (at < raw.length && raw[at] === canonical[at]) at++;
  // Back to the start of the token, so both sides show a whole key or value.
  while (at > 0 && !'{[,:'.includes(raw[at - 1]!)) at--;
  const show = (s: string) => JSON.stringify(s.slice(at, at + 24));
  const sameChars = (a: string) => [...a].sort().join('');
  const what =
    raw.replace(/\s/g, '') === canonical.replace(/\s/g, '')
      ? 'whitespace was added'
      : raw.length === canonical.length && sameChars(raw) === sameChars(canonical)
        ? 'the keys are out of order (a record is written with its keys sorted)'
        : 'the bytes differ (escapes or number formats)';
  return (
    `record ${seq} is not written in canonical form, so its bytes are not the ones hashed: ${what}; ` +
    `column ${at + 1} has ${show(raw)} where ${show(canonical)} belongs`
  );
}

/**
 * The first key that appears twice in one object of a valid JSON text, or null. JSON.parse keeps
 * the last one silently, so a duplicate could shadow the hashed value.
 */
export function duplicateKey(json: string): string | null {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const keys = stack.at(-1);
      if (keys && expectKey) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') expectKey = !!stack.at(-1);
  }
  return null;
}

/** The records of a log that verifies; throws on a broken chain (never append to a tampered log silently). */
export function parseAuditLog(text: string): AuditRecord[] {
  const v = verifyChain(text);
  if (!v.ok) throw new Error(`audit log line ${v.line}: ${v.problem}`);
  return v.records;
}
