import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { type LedgerEntry, ledgerEntrySchema, type NotifyLedger } from '../policy/oncall/ports.ts';

// The record of what was sent, so nothing pages twice for the same event: PagerDuty's dedup key
// stops a second page while its alert is open, the ledger stops the second trigger (and the second
// Slack post, which nothing else would stop) and remembers what to resolve.

/** The ledger file cannot be used: corrupt, or held by another run. The message says which and why. */
export class LedgerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerError';
  }
}

/** A lock older than this was left by a run that died: it is taken over. */
const STALE_LOCK_MS = 10 * 60_000;

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
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw new LedgerError(
          `notify ledger ${this.path}: not JSON (${(e as Error).message}): restore it, or move it aside to start a new one (open pages are then forgotten)`,
        );
      }
      const parsed = z.array(ledgerEntrySchema).safeParse(json);
      if (!parsed.success)
        throw new LedgerError(
          `notify ledger ${this.path}: not a ledger (${parsed.error.issues[0]?.message})`,
        );
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
  /** Every entry, past episodes included (their keys end in #raised_at). */
  async all(): Promise<LedgerEntry[]> {
    return [...(await this.load()).entries.values()];
  }
  async put(entry: LedgerEntry) {
    const m = await this.load();
    // A new episode of a key that was resolved: the old one is kept under `key#raised_at`, so the
    // file is the history of what paged (readiness and handoff read it); it is never open again.
    const prev = m.entries.get(entry.key);
    if (prev && prev.resolved_at !== null && prev.raised_at !== entry.raised_at)
      m.entries.set(`${prev.key}#${prev.raised_at}`, { ...prev, key: `${prev.key}#${prev.raised_at}` });
    await m.put(entry);
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify([...m.entries.values()], null, 1)}\n`);
    await rename(tmp, this.path);
  }

  /**
   * Holds the ledger for one run: two `oncall page` runs on the same file would each read it, each
   * page, and the last write would win. Waits up to `waitMs` for another run to finish.
   */
  async lock(
    waitMs = 30_000,
    sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  ): Promise<void> {
    const lockPath = `${this.path}.lock`;
    await mkdir(dirname(this.path), { recursive: true });
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        await writeFile(lockPath, `${process.pid} ${new Date().toISOString()}\n`, { flag: 'wx' });
        this.locked = lockPath;
        this.cache = null; // what the previous holder wrote
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const age = await stat(lockPath).then(
        (st) => Date.now() - st.mtimeMs,
        () => 0,
      );
      if (age > STALE_LOCK_MS) {
        // Another waiter may remove it first (ENOENT); any other failure shows as EEXIST on the
        // next try and ends in the timeout's error, which names the lock.
        await unlink(lockPath).catch(() => {});
        continue;
      }
      if (Date.now() >= deadline)
        throw new LedgerError(
          `notify ledger ${this.path}: another run holds ${lockPath} (for ${Math.round(age / 1000)} s); try again when it ends, or remove the lock if no run is left`,
        );
      await sleep(100);
    }
  }

  private locked: string | null = null;

  /** Gives the lock back; a lock that cannot be removed is said (the next run waits it out). */
  async release(): Promise<string | null> {
    const held = this.locked;
    this.locked = null;
    if (!held) return null;
    try {
      await unlink(held);
      return null;
    } catch (e) {
      return `could not remove ${held} (${(e as Error).message}): the next run waits until it is ${STALE_LOCK_MS / 60_000} minutes old`;
    }
  }
}
