import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { botClock, readBotConfig } from '../../src/bot/config.ts';
import { LATEST_VERSION, MIGRATIONS } from '../../src/store/migrations.ts';
import { openStore } from '../../src/store/open.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { tempDir } from '../support/tasks.ts';
import { newWatch, T0 } from './support.ts';

describe('bot configuration', () => {
  it('reads the documented variables with their defaults', () => {
    const c = readBotConfig({ BUDGET_GATE_TELEMETRY_FILE: 'tasks.jsonl', BUDGET_GATE_REPLICA: 'r1' });
    expect(c).toMatchObject({
      BUDGET_GATE_STORE: 'sqlite:./data/budget-gate.sqlite',
      BUDGET_GATE_TICK: 30_000,
      BUDGET_GATE_LEASE: 120_000,
      BUDGET_GATE_POLICY_PATH: '.github/error-budget.yml',
      BUDGET_GATE_REVERT_ATTEMPTS: 5,
      BUDGET_GATE_REVERT_BACKOFF: 30_000,
      BUDGET_GATE_RECOVER_EVERY: 300_000,
      BUDGET_GATE_RECOVER_LOOKBACK: 10_800_000,
    });
    expect(c.BUDGET_GATE_GITHUB_WRITE_GAP).toBeUndefined();
    const tuned = readBotConfig({
      BUDGET_GATE_TELEMETRY_FILE: 't',
      BUDGET_GATE_RECOVER_EVERY: 'off',
      BUDGET_GATE_GITHUB_WRITE_GAP: '0s',
      BUDGET_GATE_REVERT_ATTEMPTS: '3',
    });
    expect(tuned).toMatchObject({
      BUDGET_GATE_RECOVER_EVERY: null,
      BUDGET_GATE_GITHUB_WRITE_GAP: 0,
      BUDGET_GATE_REVERT_ATTEMPTS: 3,
    });
  });

  it('names the variable at fault', () => {
    expect(() => readBotConfig({})).toThrow(
      /no telemetry: set BUDGET_GATE_PROMETHEUS_URL .* or BUDGET_GATE_TELEMETRY_FILE/,
    );
    expect(() => readBotConfig({ BUDGET_GATE_TELEMETRY_FILE: 'a', BUDGET_GATE_TICK: 'often' })).toThrow(
      'BUDGET_GATE_TICK: expected a duration such as 30s, 1m or 2m, got "often"',
    );
    expect(() => readBotConfig({ BUDGET_GATE_TELEMETRY_FILE: 'a', BUDGET_GATE_LEASE: '10s' })).toThrow(
      /BUDGET_GATE_LEASE must be longer/,
    );
    expect(() =>
      readBotConfig({ BUDGET_GATE_TELEMETRY_FILE: 'a', BUDGET_GATE_REVERT_ATTEMPTS: '0' }),
    ).toThrow('BUDGET_GATE_REVERT_ATTEMPTS: at least 1');
    expect(() =>
      readBotConfig({ BUDGET_GATE_TELEMETRY_FILE: 'a', BUDGET_GATE_RECOVER_EVERY: 'never' }),
    ).toThrow('BUDGET_GATE_RECOVER_EVERY: expected a duration or off, got "never"');
  });

  it('runs on the wall clock unless a test sets BUDGET_GATE_TEST_CLOCK, and refuses one left set', () => {
    expect(botClock(readBotConfig({ BUDGET_GATE_TELEMETRY_FILE: 'a' }))).toBe(Date.now);
    const origin = Date.now() - 1_000;
    const c = readBotConfig({ BUDGET_GATE_TELEMETRY_FILE: 'a', BUDGET_GATE_TEST_CLOCK: `4x@${origin}` });
    expect(c.BUDGET_GATE_TEST_CLOCK).toEqual({ rate: 4, origin });
    const before = Date.now();
    const t = botClock(c)();
    expect(t).toBeGreaterThanOrEqual(origin + (before - origin) * 4);
    expect(t).toBeLessThanOrEqual(origin + (Date.now() - origin) * 4);
    expect(() => readBotConfig({ BUDGET_GATE_TELEMETRY_FILE: 'a', BUDGET_GATE_TEST_CLOCK: 'fast' })).toThrow(
      'BUDGET_GATE_TEST_CLOCK: expected <rate>x@<origin epoch ms> with a rate from 1 to 60, got "fast"',
    );
    expect(() =>
      readBotConfig({ BUDGET_GATE_TELEMETRY_FILE: 'a', BUDGET_GATE_TEST_CLOCK: `100x@${origin}` }),
    ).toThrow(/a rate from 1 to 60/);
    expect(() =>
      readBotConfig({
        BUDGET_GATE_TELEMETRY_FILE: 'a',
        BUDGET_GATE_TEST_CLOCK: `4x@${Date.now() - 2 * 3_600_000}`,
      }),
    ).toThrow(/is not within the last 30 minutes: a test's clock left set\? Unset it/);
  });

  it('refuses a store it does not know, without echoing a password', async () => {
    await expect(openStore('mysql://u:secret@h/db', '/tmp')).rejects.toThrow(
      /expected sqlite:<path> or a postgres:\/\/ URL, got "mysql:\/\/…@h\/db"/,
    );
  });
});

describe('SQLite store migrations', () => {
  it('migrate once, keep data across opens, and refuse a newer schema', async () => {
    const file = `${tempDir('bg-mig-')}/w.sqlite`;
    const a = new SqliteWatchStore(file);
    expect(await a.add(newWatch(1, T0), T0)).toBe(true);
    expect(await a.add(newWatch(1, T0), T0)).toBe(false);
    await a.close();
    const b = new SqliteWatchStore(file);
    expect((await b.list()).map((w) => w.deployment_id)).toEqual([1]);
    await b.close();
    const db = new DatabaseSync(file);
    // Every migration applied, once (whatever number the newest has).
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version })),
    );
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (99, ?)').run('later');
    db.close();
    expect(() => new SqliteWatchStore(file)).toThrow(
      new RegExp(`schema version 99, newer than this bot knows \\(${LATEST_VERSION}\\)`),
    );
  });
});
