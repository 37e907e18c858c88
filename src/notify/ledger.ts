import { rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { type LedgerEntry, ledgerEntrySchema, type NotifyLedger } from '../policy/oncall/ports.ts';
import { InputFileError, readInputText, reason } from '../repo/read-input.ts';
import { FileWriteError, makeDirs } from '../repo/write-output.ts';

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

/** A ledger of open pages is small; past this it is not one (or not read whole into memory). */
const MAX_LEDGER_BYTES = 16 << 20;

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
    if (await this.regularOrMissing()) {
      try {
        text = await readInputText(this.path, this.path, 'notify ledger', {
          maxBytes: MAX_LEDGER_BYTES,
          timeoutMs: 10_000,
        });
      } catch (e) {
        if (!(e instanceof InputFileError)) throw e;
        throw new LedgerError(`${e.message}: restore it, or move it aside to start a new one`);
      }
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
          `notify ledger ${this.path}: not a ledger (${parsed.error.issues[0]?.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${parsed.error.issues[0]?.message}): restore it, or move it aside to start a new one (open pages are then forgotten)`,
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
    await this.makeFolder();
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, `${JSON.stringify([...m.entries.values()], null, 1)}\n`);
      await rename(tmp, this.path);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw new LedgerError(`notify ledger ${this.path}: cannot write it (${reason(e)})`);
    }
  }

  /**
   * True when the ledger is a regular file, false when there is none yet; a LedgerError when the
   * path names something else: a folder, a device, a FIFO would be read without end or replaced.
   */
  private async regularOrMissing(): Promise<boolean> {
    const info = await stat(this.path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw new LedgerError(`notify ledger ${this.path}: cannot read it (${reason(e)})`);
    });
    if (info === null) return false;
    if (!info.isFile())
      throw new LedgerError(
        `notify ledger ${this.path}: not a regular file (${info.isDirectory() ? 'a folder' : 'a device, pipe or socket'}): name a file the ledger can be written to`,
      );
    return true;
  }

  private async makeFolder(): Promise<void> {
    try {
      await makeDirs(dirname(this.path), this.path, 'notify ledger');
    } catch (e) {
      if (e instanceof FileWriteError) throw new LedgerError(e.message);
      throw e;
    }
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
    await this.regularOrMissing();
    await this.makeFolder();
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        await writeFile(lockPath, `${process.pid} ${new Date().toISOString()}\n`, { flag: 'wx' });
        this.locked = lockPath;
        this.cache = null; // what the previous holder wrote
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new LedgerError(
            `notify ledger ${this.path}: cannot write its lock ${lockPath} (${reason(e)})`,
          );
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
