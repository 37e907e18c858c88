import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { type LedgerEntry, ledgerEntrySchema, type NotifyLedger } from '../policy/oncall/ports.ts';

// The record of what was sent, so nothing pages twice for the same event: PagerDuty's dedup key
// stops a second page while its alert is open, the ledger stops the second trigger (and the second
// Slack post, which nothing else would stop) and remembers what to resolve.

export class MemoryLedger implements NotifyLedger {
  readonly entries = new Map<string, LedgerEntry>();
  async get(key: string) {
    const e = this.entries.get(key);
    return e ? structuredClone(e) : null;
  }
  async put(entry: LedgerEntry) {
    this.entries.set(entry.key, structuredClone(entry));
  }
  async open(repo: string) {
    return [...this.entries.values()].filter((e) => e.repo === repo && e.resolved_at === null);
  }
}

/** A JSON file, rewritten whole through a rename so a crash leaves the old or the new record. */
export class FileLedger implements NotifyLedger {
  private cache: MemoryLedger | null = null;
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }

  private async load(): Promise<MemoryLedger> {
    if (this.cache) return this.cache;
    const m = new MemoryLedger();
    let text: string | null = null;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== null && text.trim() !== '') {
      const parsed = z.array(ledgerEntrySchema).safeParse(JSON.parse(text));
      if (!parsed.success)
        throw new Error(`notify ledger ${this.path}: not a ledger (${parsed.error.issues[0]?.message})`);
      for (const e of parsed.data) m.entries.set(e.key, e);
    }
    this.cache = m;
    return m;
  }
  async get(key: string) {
    return (await this.load()).get(key);
  }
  async open(repo: string) {
    return (await this.load()).open(repo);
  }
  async put(entry: LedgerEntry) {
    const m = await this.load();
    await m.put(entry);
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify([...m.entries.values()], null, 1)}\n`);
    await rename(tmp, this.path);
  }
}
