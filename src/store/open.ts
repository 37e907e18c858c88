import { resolve } from 'node:path';
import { PostgresWatchStore } from './postgres.ts';
import type { SqlWatchStore } from './sql.ts';
import { SqliteWatchStore } from './sqlite.ts';

export const DEFAULT_STORE = 'sqlite:./data/budget-gate.sqlite';

/** `sqlite:<path>` (relative to `cwd`) or a `postgres://` / `postgresql://` connection URL. */
export async function openStore(
  spec: string,
  cwd: string,
  opts: { onError?: (e: Error) => void } = {},
): Promise<SqlWatchStore> {
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (!path)
      throw new Error('BUDGET_GATE_STORE: sqlite: needs a file path, e.g. sqlite:./data/budget-gate.sqlite');
    return new SqliteWatchStore(path === ':memory:' ? path : resolve(cwd, path));
  }
  if (/^postgres(ql)?:\/\//.test(spec))
    return PostgresWatchStore.open({
      connectionString: spec,
      ...(opts.onError ? { onError: opts.onError } : {}),
    });
  throw new Error(
    `BUDGET_GATE_STORE: expected sqlite:<path> or a postgres:// URL, got "${spec.replace(/\/\/[^@/]*@/, '//…@')}"`,
  );
}
