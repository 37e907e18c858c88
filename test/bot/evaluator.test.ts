import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Evaluated, Evaluator, nextCell } from '../../src/bot/evaluator.ts';
import { collectingLog } from '../../src/bot/log.ts';
import { PostgresWatchStore } from '../../src/store/postgres.ts';
import type { SqlWatchStore } from '../../src/store/sql.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { assertAllCalled, setupNock } from '../support/nock.ts';
import { type RunningPostgres, startPostgres } from '../support/postgres.ts';
import { API, b64, fastBurnPage, MIN, POLICY_TEXT, scenarioSource, T0, testClock } from './support.ts';

// The always-on evaluator: each installed repository's default-branch policy, evaluated once per
// cell of its interval's grid by whichever replica leases it, the policy read conditionally (ETag),
// the history stored at two resolutions. GitHub is nock on the exact contents endpoint.

const LEASE = 2 * MIN;
const HOUR = 60 * MIN;
const source = scenarioSource(0.005, 0.0525);
const gh = () =>
  new ProbotOctokit({ auth: { token: 'ghs_test' }, retry: { enabled: false }, throttle: { enabled: false } });
const CONTENTS = (repo: string) => `/repos/acme/${repo}/contents/.github%2Ferror-budget.yml`;
const file = (text: string) => ({
  type: 'file',
  encoding: 'base64',
  name: 'error-budget.yml',
  path: '.github/error-budget.yml',
  content: b64(text),
  sha: 'b'.repeat(40),
  size: text.length,
});

/** Every repository has the same policy, unchanged (one etag) for as long as the test runs. */
const servePolicyToAll = () =>
  nock(API)
    .persist()
    .get(/\/contents\//)
    .query(true)
    .reply(200, file(POLICY_TEXT), { etag: '"v1"' });

function evaluatorOf(store: SqlWatchStore, clock: () => number, replica: string, seen: Evaluated[] = []) {
  const log = collectingLog();
  const e = new Evaluator({
    store: store.service,
    source,
    clock,
    replica,
    leaseMs: LEASE,
    floorMs: 30_000,
    policyPath: '.github/error-budget.yml',
    github: async () => gh(),
    log,
    onEvaluated: async (x) => {
      seen.push(x);
    },
  });
  return { e, log, seen };
}

const installed = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    owner: 'acme',
    repo: `r${from + i}`,
    installation_id: 7,
    default_branch: 'main',
  }));

beforeAll(setupNock);
afterEach(() => nock.cleanAll());

describe('the evaluator', () => {
  it('evaluates each repository once per cell, reads the policy once and then only conditionally', async () => {
    const store = new SqliteWatchStore(':memory:');
    const clock = testClock(T0 + 10 * MIN + 5_000);
    await store.service.sync(7, installed(2), clock.now());
    const { e, seen } = evaluatorOf(store, clock.now, 'a');

    const first = nock(API)
      .get(CONTENTS('r0'))
      .query({ ref: 'main' })
      .reply(200, file(POLICY_TEXT), { etag: 'W/"v1"' })
      .get(CONTENTS('r1'))
      .query({ ref: 'main' })
      .reply(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    const r1 = await e.round();
    first.done();
    expect(r1).toMatchObject({ claimed: 2, evaluated: 1, no_policy: 1, failed: 0 });
    expect(r1.policy_reads).toEqual({ read: 1, unchanged: 0, none: 1 });
    expect(seen.map((s) => [s.repo.full_name, s.decision.state])).toEqual([['acme/r0', 'ship']]);
    const row = (await store.service.get('acme/r0'))!;
    expect(row).toMatchObject({
      policy_etag: 'W/"v1"',
      policy_status: 'ok',
      lease_owner: null,
      next_due_at: nextCell(clock.now(), MIN),
      last_success_at: clock.now(),
      last_state: 'ship',
    });
    expect((await store.service.get('acme/r1'))!.last_error).toBe(
      'no policy at .github/error-budget.yml on main',
    );

    // The same cell again: nothing is due, nothing is read.
    clock.set(T0 + 10 * MIN + 50_000);
    expect((await e.round()).claimed).toBe(0);

    // The next cell: the stored text serves, no request at all.
    clock.set(T0 + 11 * MIN + 1_000);
    expect(await e.round()).toMatchObject({ evaluated: 1, policy_reads: { read: 0, unchanged: 0 } });

    // A push to the default branch: read again, with the ETag; unchanged is a 304.
    await store.service.invalidatePolicy('acme/r0', clock.now());
    clock.set(T0 + 12 * MIN + 1_000);
    const conditional = nock(API, { reqheaders: { 'if-none-match': 'W/"v1"' } })
      .get(CONTENTS('r0'))
      .query({ ref: 'main' })
      .reply(304, '');
    const r3 = await e.round();
    conditional.done();
    expect(r3).toMatchObject({ evaluated: 1, policy_reads: { read: 0, unchanged: 1, none: 0 } });
    assertAllCalled();

    // The history: one minute row per cell, one hour row keeping the hour's worst state.
    const minutes = await store.service.history('acme/r0', 'minute', 0);
    expect(minutes.map((m) => m.at)).toEqual([
      T0 + 10 * MIN + 5_000,
      T0 + 11 * MIN + 1_000,
      T0 + 12 * MIN + 1_000,
    ]);
    expect(minutes[0]!.slos[0]).toMatchObject({ name: 'tasks-success', state: 'ship' });
    expect(minutes[0]!.slos[0]!.burn_rates['1h']).toBeCloseTo(5.25 * (10 / 60) + 0.5 * (50 / 60), 1);
    const hours = await store.service.history('acme/r0', 'hour', 0);
    expect(hours).toHaveLength(1);
    expect(hours[0]).toMatchObject({ at: T0 + 12 * MIN + 1_000, worst: 'ship', replica: 'a' });
    await store.close();
  });

  it('keeps minute rows for a day and hour rows for the longest SLO window', async () => {
    const store = new SqliteWatchStore(':memory:');
    const rec = (at: number) =>
      store.service.record(
        { repo: 'acme/r0', at, replica: 'a', state: 'ship', slos: [], alerts: [], error: null },
        { minuteMs: 24 * 60 * MIN, hourMs: 7 * 24 * 60 * MIN },
      );
    for (const daysAgo of [8, 6, 2, 0.5]) await rec(T0 - daysAgo * 24 * 60 * MIN);
    await rec(T0);
    expect((await store.service.history('acme/r0', 'minute', 0)).map((h) => (T0 - h.at) / MIN)).toEqual([
      720, 0,
    ]);
    expect(
      (await store.service.history('acme/r0', 'hour', 0)).map((h) => (T0 - h.at) / (24 * 60 * MIN)),
    ).toEqual([6, 2, 0.5, 0]);
    await store.close();
  });

  it("keeps an hour's worst state beside its last figures", async () => {
    const store = new SqliteWatchStore(':memory:');
    const rec = (at: number, state: 'ship' | 'soft-pause' | 'hard-pause') =>
      store.service.record(
        { repo: 'acme/r0', at, replica: 'a', state, slos: [], alerts: [], error: null },
        { minuteMs: 24 * 60 * MIN, hourMs: 7 * 24 * 60 * MIN },
      );
    await rec(T0 + MIN, 'soft-pause');
    await rec(T0 + 2 * MIN, 'hard-pause');
    await rec(T0 + 3 * MIN, 'ship');
    // A late write of an earlier minute does not replace the hour's later figures.
    await rec(T0 + 30_000, 'ship');
    const [hour] = await store.service.history('acme/r0', 'hour', 0);
    expect(hour).toMatchObject({ state: 'ship', worst: 'hard-pause', at: T0 + 3 * MIN });
    expect((await store.service.history('acme/r0', 'minute', 0)).map((m) => m.state)).toEqual([
      'ship',
      'soft-pause',
      'hard-pause',
      'ship',
    ]);
    await store.close();
  });

  it("moves a dead replica's repositories to another within one lease, and evaluates them once", async () => {
    const store = new SqliteWatchStore(':memory:');
    const clock = testClock(T0 + 10 * MIN + 1_000);
    await store.service.sync(7, installed(3), clock.now());
    servePolicyToAll();
    // Replica a leases all three and dies before evaluating any.
    expect(await store.service.claim('a', clock.now(), LEASE, 50)).toHaveLength(3);
    const b = evaluatorOf(store, clock.now, 'b');
    expect((await b.e.round()).claimed).toBe(0);
    clock.set(clock.now() + LEASE - 1_000);
    expect((await b.e.round()).claimed).toBe(0);
    clock.set(clock.now() + 2_000);
    expect(await b.e.round()).toMatchObject({ claimed: 3, evaluated: 3 });
    // Replica a comes back from its pause: its lease is gone, so it writes nothing.
    expect(await store.service.complete('acme/r0', 'a', clock.now(), clock.now() + MIN, null)).toBe(false);
    expect((await b.e.round()).claimed).toBe(0);
    expect(b.seen.map((s) => s.repo.full_name).sort()).toEqual(['acme/r0', 'acme/r1', 'acme/r2']);
    await store.close();
  });

  it('a repository the installation no longer lists is not evaluated', async () => {
    const store = new SqliteWatchStore(':memory:');
    await store.service.sync(7, installed(2), T0);
    await store.service.sync(7, installed(1, 1), T0);
    expect((await store.service.list()).map((r) => [r.full_name, r.active])).toEqual([
      ['acme/r0', false],
      ['acme/r1', true],
    ]);
    expect((await store.service.claim('a', T0, LEASE, 50)).map((r) => r.full_name)).toEqual(['acme/r1']);
    await store.close();
  });
});

describe('two replicas on one PostgreSQL', () => {
  let pg: RunningPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it('share 60 repositories in a cell without evaluating any twice', async () => {
    const url = await pg.createDatabase('evaluator_two');
    const [sa, sb] = await Promise.all([
      PostgresWatchStore.open({ connectionString: url }),
      PostgresWatchStore.open({ connectionString: url }),
    ]);
    const clock = testClock(T0 + 10 * MIN + 1_000);
    await sa.service.sync(7, installed(60), clock.now());
    servePolicyToAll();
    const seen: Evaluated[] = [];
    const a = evaluatorOf(sa, clock.now, 'a', seen);
    const b = evaluatorOf(sb, clock.now, 'b', seen);
    // Small batches so the two interleave claim by claim.
    for (const x of [a, b]) (x.e as unknown as { o: { batch: number } }).o.batch = 5;
    const [ra, rb] = await Promise.all([a.e.round(), b.e.round(), a.e.round()]);
    expect(ra!.evaluated + rb!.evaluated).toBe(60);
    const names = seen.map((s) => s.repo.full_name);
    expect(new Set(names).size).toBe(60);
    expect(names).toHaveLength(60);
    expect(ra!.evaluated).toBeGreaterThan(0);
    expect(rb!.evaluated).toBeGreaterThan(0);
    const rows = await sa.service.list();
    expect(rows.every((r) => r.lease_owner === null && r.next_due_at === nextCell(clock.now(), MIN))).toBe(
      true,
    );
    await Promise.all([sa.close(), sb.close()]);
  }, 60_000);

  it('keeps the notify ledger and the incidents with their timeline', async () => {
    const store = await PostgresWatchStore.open({ connectionString: await pg.createDatabase('incidents') });
    const entry = {
      key: 'budget-gate/acme/r0/alert/fast-burn/tasks-success',
      repo: 'acme/r0',
      kind: 'alert',
      severity: 'sev1',
      raised_at: T0,
      paged: ['k'],
      posted: ['raised', 'paged'],
      resolved_at: null,
    };
    await store.ledger.put(entry);
    await store.ledger.put({ ...entry, paged: ['k', 'k:sev1'] });
    expect(await store.ledger.get(entry.key)).toEqual({ ...entry, paged: ['k', 'k:sev1'] });
    expect(await store.ledger.open('acme/r0')).toHaveLength(1);
    const inc = await store.incidents.open(fastBurnPage(entry.key), T0);
    expect(inc).toMatchObject({ escalation_step: 0, acked_at: null, clear_since: null });
    expect(await store.incidents.escalate(inc, 0, T0 + 5 * MIN)).toBe(true);
    expect(await store.incidents.escalate(inc, 0, T0 + 5 * MIN)).toBe(false);
    expect(await store.incidents.ack(inc, T0 + 6 * MIN, 'bob')).toBe(true);
    expect(await store.incidents.escalate(inc, 1, T0 + 10 * MIN)).toBe(false);
    await store.incidents.note(inc, { at: T0 + MIN, kind: 'b', text: 'second' });
    await store.incidents.note(inc, { at: T0, kind: 'a', text: 'first' });
    expect((await store.incidents.timeline(inc)).map((t) => t.text)).toEqual(['first', 'second']);
    expect(await store.incidents.resolve(inc, T0 + HOUR, 'bob')).toBe(true);
    expect(await store.incidents.openFor('acme/r0')).toEqual([]);
    await store.close();
  }, 30_000);
});
