import type { Dialect } from './migrations.ts';

// What each store (SQLite, PostgreSQL) hands the shared SQL: one driver, two dialects.

export type SqlValue = string | number | null;

/** One statement and its parameters, for runAll. */
export type Statement = readonly [sql: string, params: readonly SqlValue[]];

/** What a dialect supplies: run a statement, read rows, close. */
export interface SqlDriver {
  readonly dialect: Dialect;
  /** Rows changed. */
  run(sql: string, params: readonly SqlValue[]): Promise<number>;
  all(sql: string, params: readonly SqlValue[]): Promise<unknown[]>;
  /**
   * One statement for each parameter list, all in one transaction (one commit for a tick's writes,
   * not one per watch); rows changed by each. Nothing else runs in that transaction.
   */
  runMany(sql: string, params: readonly (readonly SqlValue[])[]): Promise<number[]>;
  /** Statements of any kind, in order, in one transaction: all land or none does. */
  runAll(statements: readonly Statement[]): Promise<number[]>;
  close(): Promise<void>;
}
