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
  | { ok: true; count: number; last: AuditRecord | null }
  | { ok: false; line: number; seq: number | null; problem: string };

/** Checks every link of the chain; reports the first record that was edited, reordered or lost. */
export function verifyChain(text: string): AuditVerification {
  const lines = text.split('\n');
  let prev: AuditRecord | null = null;
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const line = i + 1;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      return { ok: false, line, seq: null, problem: `not valid JSON (${(e as Error).message})` };
    }
    const parsed = auditRecordSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return {
        ok: false,
        line,
        seq: null,
        problem: `not an audit record: ${issue.path.join('.')}: ${issue.message}`,
      };
    }
    const rec = parsed.data;
    const expectedSeq = (prev?.seq ?? 0) + 1;
    if (rec.seq !== expectedSeq) {
      return {
        ok: false,
        line,
        seq: rec.seq,
        problem:
          rec.seq > expectedSeq
            ? `record ${expectedSeq} is missing (found ${rec.seq})`
            : `record ${rec.seq} is out of order (expected ${expectedSeq})`,
      };
    }
    if (rec.prev_hash !== (prev?.hash ?? GENESIS)) {
      return {
        ok: false,
        line,
        seq: rec.seq,
        problem: `record ${rec.seq} does not chain to record ${expectedSeq - 1}: the log was reordered or a record replaced`,
      };
    }
    const { hash, ...body } = rec;
    if (hashRecord(body) !== hash) {
      return {
        ok: false,
        line,
        seq: rec.seq,
        problem: `record ${rec.seq} was edited: its hash does not match its content`,
      };
    }
    prev = rec;
    count++;
  }
  return { ok: true, count, last: prev };
}

/** The records of a log that verifies; throws on a broken chain (never append to a tampered log silently). */
export function parseAuditLog(text: string): AuditRecord[] {
  const v = verifyChain(text);
  if (!v.ok) throw new Error(`audit log line ${v.line}: ${v.problem}`);
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => auditRecordSchema.parse(JSON.parse(l)));
}
