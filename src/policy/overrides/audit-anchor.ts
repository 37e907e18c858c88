import type { AuditRecord } from './audit-chain.ts';

// The audit chain is unkeyed: anyone who can write the audit branch can edit a record and
// recompute every hash after it, or drop the newest records, and the chain still verifies. An
// anchor is the (seq, hash) of a record written where a branch rewrite cannot reach (a check run
// only its GitHub App can create or change, never deleted). A log is continuous with its anchors
// when every anchored record is still in it, byte for byte (its hash commits to everything before
// it); records after the newest anchor are not covered yet.

export interface AuditAnchor {
  seq: number;
  hash: string;
  /** Where it was read (e.g. "check run 4242"), for messages. */
  source?: string;
}

const ANCHOR_ID = /^([1-9]\d{0,15}):([0-9a-f]{64})$/;

/** The anchor as one short string (a check run's external_id). */
export const formatAnchor = (r: Pick<AuditRecord, 'seq' | 'hash'>): string => `${r.seq}:${r.hash}`;

export function parseAnchor(s: string | null | undefined): AuditAnchor | null {
  const m = ANCHOR_ID.exec(s ?? '');
  return m ? { seq: Number(m[1]), hash: m[2]! } : null;
}

export type Continuity =
  | { ok: true /** The newest anchored seq; 0 when nothing was anchored. */; anchored: number }
  | { ok: false /** The first record known to differ (or to be missing). */; seq: number; problem: string };

const short = (h: string) => `${h.slice(0, 12)}…`;

/** Is the verified log `records` the one the anchors were written for? */
export function checkContinuity(
  records: readonly AuditRecord[],
  anchors: readonly AuditAnchor[],
): Continuity {
  const sorted = [...anchors].sort((a, b) => a.seq - b.seq);
  let matched = 0;
  for (const a of sorted) {
    const rec = records[a.seq - 1];
    const where = a.source ? ` (${a.source})` : '';
    if (!rec) {
      const newest = sorted.at(-1)!.seq;
      const kept = records.length;
      return {
        ok: false,
        seq: kept + 1,
        problem:
          kept === 0
            ? `the audit log is gone, but records up to #${newest} were anchored${where}: the log was deleted or replaced`
            : `the log ends at record #${kept}, but record #${a.seq} was anchored${where}: ` +
              `records #${kept + 1}–#${newest} were removed`,
      };
    }
    if (rec.hash !== a.hash) {
      const first = matched + 1 === a.seq ? `#${a.seq}` : `one of #${matched + 1}–#${a.seq}`;
      return {
        ok: false,
        seq: matched + 1,
        problem:
          `record #${a.seq} is not the record that was anchored${where} (anchored ${short(a.hash)}, the log has ` +
          `${short(rec.hash)}): the log was rewritten and its chain recomputed; the first record that differs is ${first}`,
      };
    }
    matched = a.seq;
  }
  return { ok: true, anchored: matched };
}

/** `audit verify --head`: does the chain end at the expected head hash? Null when it does. */
export function checkHead(records: readonly AuditRecord[], head: string): string | null {
  const last = records.at(-1);
  if (last?.hash === head) return null;
  const at = records.findIndex((r) => r.hash === head);
  if (at >= 0) {
    return `the chain goes on past the expected head: it is record #${at + 1}, and ${records.length - at - 1} record(s) follow it (the last is #${last!.seq} ${short(last!.hash)})`;
  }
  return last
    ? `the chain ends at record #${last.seq} ${short(last.hash)}, and no record has the expected head ${short(head)}: records were removed, or the chain was rewritten and recomputed`
    : `the log is empty, but the expected head is ${short(head)}: the log was deleted or replaced`;
}
