import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFigures } from '../../src/dashboard/figures.ts';
import { SqlDashboardStore } from '../../src/dashboard/sql-store.ts';
import { chainRecord } from '../../src/policy/overrides/audit-chain.ts';
import type { SqlWatchStore } from '../../src/store/sql.ts';
import { FLEET_AT, fakeRecord, repoName } from '../support/dashboard-fleet.ts';
import { consumedAgo, fillSqlStore, INSTALLATION, PULLS } from '../support/dashboard-sql.ts';
import { sqlStoreDrivers } from '../support/sql-stores.ts';

// The dashboard's port over the bot's store, on SQLite and on a real PostgreSQL: what the store
// holds (written through its own write paths: dashboard-sql.ts) is what the port hands the pages,
// figure for figure; held pull requests follow the gate's decisions; a rewritten audit log is
// noticed; a repository removed from the App leaves the fleet.

const HOUR = 3_600_000;
const N = 4;
const HOURS = (i: number) => 6 + i;

const drivers = sqlStoreDrivers();

describe.each(drivers)('the dashboard over the %s store', (kind, open) => {
  let store: SqlWatchStore;
  let dash: SqlDashboardStore;
  beforeAll(async () => {
    store = await open(`dash_${kind.toLowerCase()}`);
    await fillSqlStore(store, N, { hours: HOURS });
    dash = new SqlDashboardStore(store, { policyPath: '.github/error-budget.yml', clock: () => FLEET_AT });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('lists the fleet with the figures stored beside each decision', async () => {
    const rows = (await dash.fleet()).sort((a, b) => a.repo.localeCompare(b.repo));
    const want = Array.from({ length: N }, (_, i) => {
      const d = fakeRecord(i).repository.decision;
      return {
        repo: repoName(i),
        environment: 'production',
        ...fleetFigures(d),
        evaluated_at: d.evaluated_at,
      };
    }).sort((a, b) => a.repo.localeCompare(b.repo));
    expect(rows).toEqual(want);
  });

  it('serves a repository: its decision as stored, the history of every SLO, the pull requests held', async () => {
    for (let i = 0; i < N; i++) {
      const rec = fakeRecord(i);
      const v = (await dash.repository(repoName(i)))!;
      expect(v.decision).toEqual(rec.repository.decision);
      expect(v.alert_windows).toEqual(rec.repository.alert_windows);
      expect(v.source).toBe(rec.repository.source);
      const hours = HOURS(i);
      for (const slo of rec.repository.decision.slos) {
        const t = v.trend!.find((x) => x.slo === slo.name)!;
        expect(t.lookback).toBe('1d');
        expect(t.points).toHaveLength(hours);
        expect(t.points[0]).toEqual({
          at: new Date(FLEET_AT - (hours - 1) * HOUR).toISOString(),
          consumed: consumedAgo(slo.consumed, hours - 1, hours),
          burn: slo.burn_rates['1d'],
        });
        expect(t.points.at(-1)!.consumed).toBe(slo.consumed);
      }
      // #57 was blocked unless the repository ships; #41 was allowed.
      const blocked = rec.history!.decisions.filter((d) => !d.allowed);
      expect(v.held).toEqual(
        blocked.map((d) => ({
          number: d.pull_number,
          title: PULLS[d.pull_number!]!.title,
          author: PULLS[d.pull_number!]!.author,
          headline: d.headline,
          since: d.at,
        })),
      );
    }
    expect(await dash.repository('acme-0/nothing-here')).toBeNull();
  });

  it('serves each watch with its evidence minute by minute, its verdict and its revert', async () => {
    for (let i = 0; i < N; i++) {
      const want = fakeRecord(i).deployments![0]!;
      const [w] = (await dash.deployments(repoName(i)))!;
      expect(w).toEqual({
        ...want,
        // The store has the verdict's confidence only for a revert (the watcher writes it then).
        confidence: want.status === 'reverted' ? want.confidence : null,
      });
    }
  });

  it('serves history: the gate’s decisions, the audit log with its approvers, incidents with timelines', async () => {
    const rec = fakeRecord(3);
    const h = (await dash.history(repoName(3)))!;
    expect(h.decisions).toEqual([...rec.history!.decisions].reverse());
    expect(h.audit).toEqual([...rec.history!.audit].reverse());
    expect(h.audit.find((r) => r.kind === 'override-applied')!.actor).toBe('sre-lead');
    expect(h.audit_note).toBeNull();
    expect(h.incidents).toEqual(
      rec.history!.incidents.map((x) => ({
        ...x,
        id: `${repoName(3)}/${x.slo}/${x.alert}@${Date.parse(x.opened_at)}`,
      })),
    );
  });

  it('says who is on call now from the stored policy', async () => {
    const o = (await dash.oncall(repoName(0)))!;
    expect(o).toEqual({ ...fakeRecord(0).oncall!, readiness: null });
    expect(o.now?.primary).toBe('carol');
  });

  it('holds a pull request from its first blocking decision until one allows it; a late older one changes nothing', async () => {
    const repo = repoName(1);
    const r = store.records;
    await r.savePull(
      { repo, number: 90, title: 'Tune the planner', author: 'dev-3', open: true, head_sha: 'c'.repeat(40) },
      FLEET_AT,
    );
    const decide = (id: number, at: number, allowed: boolean) =>
      r.pullDecision(repo, 90, {
        check_run_id: id,
        at,
        allowed,
        headline: allowed ? 'SHIP — allowed' : 'SOFT-PAUSE — blocked',
      });
    expect(await decide(1, FLEET_AT + 1000, false)).toBe(true);
    expect(await decide(2, FLEET_AT + 2000, false)).toBe(true);
    let held = (await dash.repository(repo))!.held.find((p) => p.number === 90)!;
    expect(held).toMatchObject({
      since: new Date(FLEET_AT + 1000).toISOString(),
      headline: 'SOFT-PAUSE — blocked',
    });
    expect(await decide(3, FLEET_AT + 500, true)).toBe(false);
    expect((await dash.repository(repo))!.held.some((p) => p.number === 90)).toBe(true);
    expect(await decide(4, FLEET_AT + 3000, true)).toBe(true);
    expect((await dash.repository(repo))!.held.some((p) => p.number === 90)).toBe(false);
    // Blocked again: held since then, not since the first time.
    expect(await decide(5, FLEET_AT + 4000, false)).toBe(true);
    held = (await dash.repository(repo))!.held.find((p) => p.number === 90)!;
    expect(held.since).toBe(new Date(FLEET_AT + 4000).toISOString());
    // Closed: no longer held.
    await r.savePull(
      { repo, number: 90, title: 'Tune the planner', author: 'dev-3', open: false, head_sha: 'c'.repeat(40) },
      FLEET_AT + 5000,
    );
    expect((await dash.repository(repo))!.held.some((p) => p.number === 90)).toBe(false);
  });

  it('keeps the audit records it read first and reports a rewritten log', async () => {
    const repo = repoName(2);
    const stored = await store.records.auditNewest(repo, 10);
    const first = stored.at(-1)!;
    const forged = chainRecord(null, { ...first, reason: 'something else' });
    const extra = chainRecord(stored[0]!, {
      ...stored[0]!,
      label: 'override:slo-wrong',
      seq: undefined,
    } as never);
    const r = await store.records.addAuditRecords(repo, [forged, extra]);
    expect(r.rewritten).toEqual([1]);
    expect(r.added.map((x) => x.seq)).toEqual([extra.seq]);
    expect((await store.records.auditNewest(repo, 10)).at(-1)).toEqual(first);
  });

  it('lets one reader claim an audit log at a time', async () => {
    const audit = { branch: 'budget-gate/audit', path: 'audit.jsonl' };
    const repo = 'acme/fresh';
    expect(await store.records.claimAudit(repo, audit, null, FLEET_AT)).toBe(true);
    expect(await store.records.claimAudit(repo, audit, null, FLEET_AT)).toBe(false);
    const seen = (await store.records.auditLog(repo))!;
    expect(seen).toMatchObject({ stale: true, checked_at: FLEET_AT, etag: null });
    expect(await store.records.claimAudit(repo, audit, seen, FLEET_AT + 1)).toBe(true);
    expect(await store.records.claimAudit(repo, audit, seen, FLEET_AT + 2)).toBe(false);
    expect(await store.records.auditPushed(repo, 'budget-gate/audit')).toBe(true);
    expect(await store.records.auditPushed(repo, 'main')).toBe(false);
  });

  it('drops a repository removed from the App from the fleet and its pages', async () => {
    const keep = Array.from({ length: N - 1 }, (_, i) => {
      const [owner = '', repo = ''] = repoName(i).split('/');
      return { owner, repo, installation_id: INSTALLATION, default_branch: 'main' };
    });
    await store.service.sync(INSTALLATION, keep, FLEET_AT);
    expect((await dash.fleet()).map((r) => r.repo)).not.toContain(repoName(N - 1));
    expect(await dash.repository(repoName(N - 1))).toBeNull();
    expect(await dash.history(repoName(N - 1))).toBeNull();
  });
});
