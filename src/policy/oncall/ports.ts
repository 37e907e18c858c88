import { z } from 'zod';

// On-call's port: the record of what was paged, so nothing pages twice for one event. A JSON file
// (src/notify/ledger.ts) and the bot's store implement it.

/** Epoch milliseconds a Date can print (up to year 9999): a ledger edited by hand may hold anything. */
const instant = z.number().int().min(0).max(253_402_300_799_999);

export const ledgerEntrySchema = z.object({
  key: z.string(),
  repo: z.string(),
  kind: z.string(),
  severity: z.string(),
  raised_at: instant,
  /** PagerDuty dedup keys triggered (the key, or key:sev1 once a sev2 was promoted). */
  paged: z.array(z.string()),
  /** Slack stages posted: raised, paged, promoted, resolved. */
  posted: z.array(z.string()),
  resolved_at: instant.nullable(),
});
export type LedgerEntry = z.output<typeof ledgerEntrySchema>;

export interface NotifyLedger {
  get(key: string): Promise<LedgerEntry | null>;
  put(entry: LedgerEntry): Promise<void>;
  open(repo: string): Promise<LedgerEntry[]>;
}
