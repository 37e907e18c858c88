import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { SqlDriver } from './driver.ts';

// Watches' policy texts, each stored once and named by its SHA-256 (migration 8). A text never
// changes under its hash, so a replica keeps those it has read: a tick's claim reads none, and
// every watch of one revision shares one string rather than a copy per row.

const SQL = {
  save: 'INSERT INTO watch_policies (hash, text, created_at) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING',
  text: 'SELECT text FROM watch_policies WHERE hash = ?',
};

export class SqlWatchPolicies {
  private readonly db: SqlDriver;
  /** Bounded like the bot's parsed policies: the live watches' revisions, not every one seen. */
  private readonly known = new LRUCache<string, string>({ max: 256 });

  constructor(db: SqlDriver) {
    this.db = db;
  }

  /** The text's hash, stored first so that no row ever names a text the table lacks. */
  async save(text: string, now: number): Promise<string> {
    const hash = createHash('sha256').update(text).digest('hex');
    if (this.known.get(hash) === undefined) {
      await this.db.run(SQL.save, [hash, text, now]);
      this.known.set(hash, text);
    }
    return hash;
  }

  async text(hash: string): Promise<string> {
    let text = this.known.get(hash);
    if (text === undefined) {
      const [row] = (await this.db.all(SQL.text, [hash])) as Array<{ text: string }>;
      if (!row) throw new Error(`policy text ${hash} is missing from the store's watch_policies`);
      text = row.text;
      this.known.set(hash, text);
    }
    return text;
  }
}
