import type { AuditEntry, AuditRecord } from './audit-chain.ts';

// The overrides' port: where an honoured exception (an override, a revert through a pause) is
// written. The audit branch on GitHub (src/github/audit-sink.ts) implements it.

export interface AuditSink<W extends AuditWrite = AuditWrite> {
  /** Appends `entry` unless `isDuplicate` finds its record (a re-run); throws with a readable message. */
  append(entry: AuditEntry, isDuplicate: (r: AuditRecord) => boolean): Promise<W>;
}

export interface AuditWrite {
  record: AuditRecord;
  duplicate: boolean;
}
