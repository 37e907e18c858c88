import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { cleanText } from '../net/clean-text.ts';
import { reason } from '../repo/read-input.ts';
import { CliError, type CliIo } from './io.ts';

/**
 * The bot's store, read only: a mistyped `sqlite:` path must not create an empty database and
 * report a quiet shift. node:sqlite is in Node 22.13 and later; an older Node is told so in one
 * line, as bin/budget-gate.js tells an older one still.
 */
export async function openExistingStore(spec: string, io: CliIo): Promise<StoreLike> {
  const sqlite = spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : null;
  if (sqlite && sqlite !== ':memory:') sqliteFile(spec, resolve(io.cwd, sqlite));
  let open: typeof import('../store/open.ts').openStore;
  try {
    ({ openStore: open } = await import('../store/open.ts'));
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_UNKNOWN_BUILTIN_MODULE')
      throw new CliError(
        `--store needs node:sqlite, in Node 22.13 or newer (this is Node ${process.version}): install Node 24 LTS from https://nodejs.org/en/download (or \`nvm install 24\`)`,
      );
    throw e;
  }
  if (sqlite && sqlite !== ':memory:') await botDatabase(spec, resolve(io.cwd, sqlite));
  try {
    return await open(spec, io.cwd);
  } catch (e) {
    // Its messages name the setting and what was expected: input to fix, not a bug.
    if (e instanceof Error && e.message.startsWith('BUDGET_GATE_STORE'))
      throw new CliError(`--store: ${e.message}`);
    throw storeError(spec, 'cannot open', e);
  }
}

/** SQLite's first 16 bytes: a file without them is not a database the bot wrote. */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0');

/**
 * A `sqlite:` store must be a database the bot wrote: opening anything else would create or
 * migrate it (the bot's store is opened read-write), and an empty file would report a quiet shift.
 */
function sqliteFile(spec: string, path: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CliError(
        `--store ${spec}: no database at ${path}: the bot writes it (BUDGET_GATE_STORE, default ${DEFAULT_STORE_TEXT}); check the path`,
      );
    throw new CliError(`--store ${spec}: cannot read ${path} (${reason(e)})`);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new CliError(`--store ${spec}: ${path} is not a regular file`);
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const n = readSync(fd, head, 0, head.length, 0);
    if (n < head.length || !head.equals(SQLITE_MAGIC))
      throw new CliError(
        `--store ${spec}: ${path} is ${info.size === 0 ? 'empty' : 'not an SQLite database'}, not the bot's store: check the path (BUDGET_GATE_STORE on the bot)`,
      );
  } finally {
    closeSync(fd);
  }
}

/** An SQLite database that has no schema_migrations table was not written by the bot: refused, untouched. */
async function botDatabase(spec: string, path: string): Promise<void> {
  const { DatabaseSync } = await import('node:sqlite');
  let found: unknown;
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      found = db
        .prepare("SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
        .get();
    } finally {
      db.close();
    }
  } catch (e) {
    throw storeError(spec, 'cannot open', e);
  }
  if (!found)
    throw new CliError(
      `--store ${spec}: ${path} is an SQLite database, but not the bot's store (it has no schema_migrations): check the path (BUDGET_GATE_STORE on the bot)`,
    );
}

/**
 * A store that could not be opened or read, as input to fix: which store (a PostgreSQL URL by its
 * host only, never its password), what failed and why, in one cleaned line.
 */
export function storeError(spec: string, what: string, e: unknown): CliError {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err.code === 'string' && /^[A-Z0-9_]+$/.test(err.code) ? err.code : null;
  const message = cleanText(String(err.message ?? e), 200);
  let shown = spec;
  if (/^postgres(ql)?:/.test(spec)) {
    let host = '';
    try {
      host = new URL(spec).host;
    } catch {}
    shown = `PostgreSQL at ${host || '(no host: localhost)'}`;
  }
  const hint = /^postgres/.test(spec)
    ? 'check the host, the port, the credentials and that the database is up'
    : "check that it is the bot's store (BUDGET_GATE_STORE on the bot)";
  return new CliError(
    `--store: ${what} ${shown}: ${code && !message.includes(code) ? `${code}: ` : ''}${redactUrls(message)}: ${hint}`,
  );
}

/** Connection strings a driver may echo, with their credentials taken out. */
const redactUrls = (s: string) => s.replace(/\/\/[^@/\s]*@/g, '//…@');

export type StoreLike = Awaited<ReturnType<typeof import('../store/open.ts').openStore>>;

/** The bot's default store, as its README states it (src/store/open.ts DEFAULT_STORE). */
const DEFAULT_STORE_TEXT = 'sqlite:./data/budget-gate.sqlite';
