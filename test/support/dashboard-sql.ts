import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fleetFigures } from '../../src/dashboard/figures.ts';
import type { NewWatch } from '../../src/policy/canary/ports.ts';
import type { SqlWatchStore } from '../../src/store/sql.ts';
import { FLEET_AT, fakeRecord, repoName } from './dashboard-fleet.ts';

// The dashboard fixture (dashboard-fleet.ts) written into the bot's store through the store's own
// write paths — the evaluator's history and decision, the gate's check runs and pull requests, the
// audit log as read, incidents with timelines, watches with their evidence minute by minute — so a
// page served from the SQL store can be compared with the figures the fixture holds.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const POLICY_TEXT = readFileSync(
  resolve(import.meta.dirname, '../../examples/error-budget.yml'),
  'utf8',
);
export const INSTALLATION = 21;
export const PULLS: Record<number, { title: string; author: string }> = {
  41: { title: 'Rewrite the refund prompt', author: 'dev-1' },
  57: { title: 'Switch the triage model', author: 'dev-2' },
};

/** Budget consumed k hours before FLEET_AT, as the history has it: rising to the decision's figure. */
export const consumedAgo = (consumed: number | null, k: number, hours: number) =>
  consumed === null ? null : consumed * (1 - k / (2 * hours));

export async function fillSqlStore(
  store: SqlWatchStore,
  n: number,
  o: { hours?: (i: number) => number } = {},
): Promise<void> {
  const at = FLEET_AT;
  const names = Array.from({ length: n }, (_, i) => repoName(i));
  await store.service.sync(
    INSTALLATION,
    names.map((full) => {
      const [owner = '', repo = ''] = full.split('/');
      return { owner, repo, installation_id: INSTALLATION, default_branch: 'main' };
    }),
    at - DAY,
  );
  for (const r of await store.service.claim('fill', at, 60_000, n)) {
    await store.service.savePolicy(r.full_name, 'fill', at, { text: POLICY_TEXT, etag: 'W/"policy"' });
    await store.service.complete(r.full_name, 'fill', at, at + 60_000, null, 'ship');
  }
  for (let i = 0; i < n; i++) await fillRepo(store, i, o.hours?.(i) ?? 24);
  // The watches, claimed as a watcher would, each ended the way the fixture says.
  for (const w of await store.claim('fill', at, 60_000, n)) {
    const rec = fakeRecord(Number(w.deployment_id) - 9000);
    const view = rec.deployments![0]!;
    if (view.status === 'reverted') {
      await store.startRevert(
        w.deployment_id,
        'fill',
        at,
        JSON.stringify({ slo: view.slo, verdict: { rules: ['burn_rate'], confidence: view.confidence } }),
      );
      await store.finish(w.deployment_id, 'fill', at, {
        status: 'reverted',
        revert_pr: view.revert_pr,
        reason: view.reason!,
      });
    } else {
      await store.finish(w.deployment_id, 'fill', at, { status: 'expired', reason: view.reason! });
    }
  }
}

async function fillRepo(store: SqlWatchStore, i: number, hours: number): Promise<void> {
  const at = FLEET_AT;
  const rec = fakeRecord(i);
  const repo = repoName(i);
  const d = rec.repository.decision;
  for (let k = hours - 1; k >= 0; k--) {
    await store.service.record(
      {
        repo,
        at: at - k * HOUR,
        replica: 'fill',
        state: d.state,
        slos: d.slos.map((s) => ({
          name: s.name,
          state: s.state,
          events: s.events,
          bad: s.bad,
          consumed: consumedAgo(s.consumed, k, hours),
          remaining: s.remaining,
          burn_rates: s.burn_rates,
          insufficient_data: s.insufficient_data,
        })),
        alerts: d.alerts,
        error: null,
      },
      { minuteMs: DAY, hourMs: 31 * DAY },
    );
  }
  await store.records.saveDecision({
    repo,
    at,
    environment: rec.repository.environment,
    ...fleetFigures(d),
    decision: JSON.stringify(d),
    alert_windows: JSON.stringify(rec.repository.alert_windows),
    source: d.telemetry.source,
  });
  for (const [k, x] of rec.history!.decisions.entries()) {
    const number = x.pull_number!;
    await store.records.savePull({ repo, number, ...PULLS[number]!, open: true, head_sha: x.sha! }, at - DAY);
    await store.records.recordGateDecision({
      repo,
      check_run_id: 1000 * i + k,
      at: Date.parse(x.at),
      sha: x.sha!,
      pull_number: number,
      state: x.state,
      allowed: x.allowed,
      conclusion: x.allowed ? 'success' : 'failure',
      headline: x.headline,
      url: null,
    });
    await store.records.pullDecision(repo, number, {
      check_run_id: 1000 * i + k,
      at: Date.parse(x.at),
      allowed: x.allowed,
      headline: x.headline,
    });
  }
  const audit = rec.history!.audit;
  await store.records.addAuditRecords(repo, audit);
  await store.records.saveAuditLog({
    repo,
    branch: 'budget-gate/audit',
    path: 'audit.jsonl',
    etag: 'W/"audit"',
    checked_at: at,
    head_seq: audit.at(-1)?.seq ?? 0,
    error: null,
  });
  for (const x of rec.history!.incidents) {
    const opened = Date.parse(x.opened_at);
    const inc = await store.incidents.open(
      {
        key: `${repo}/${x.slo}/${x.alert}`,
        repo,
        installation_id: INSTALLATION,
        slo: x.slo,
        alert: x.alert,
        severity: x.severity,
        action: 'page',
      },
      opened,
    );
    for (const e of x.timeline) {
      const t = Date.parse(e.at);
      if (e.kind === 'acknowledged') await store.incidents.ack(inc, t, `@${x.acknowledged_by}`);
      if (e.kind === 'resolved') await store.incidents.resolve(inc, t, 'budget-gate');
      await store.incidents.note(inc, { at: t, kind: e.kind, text: e.text });
    }
    await store.incidents.setIssue(inc, x.issue_number, 'closed', x.timeline.length);
  }
  const w = rec.deployments![0]!;
  const [owner = '', name = ''] = repo.split('/');
  const watch: NewWatch = {
    deployment_id: w.deployment_id,
    owner,
    repo: name,
    installation_id: INSTALLATION,
    environment: w.environment,
    sha: w.sha,
    previous_sha: null,
    previous_deployment_id: null,
    default_branch: 'main',
    deployed_at: Date.parse(w.deployed_at),
    pull_number: w.pull_number,
    pull_title: w.pull_title,
    policy_text: POLICY_TEXT,
    policy_path: '.github/error-budget.yml',
  };
  await store.add(watch, Date.parse(w.deployed_at));
  await store.recordEvidenceMany(
    w.evidence.map((m) => ({
      id: w.deployment_id,
      at: Date.parse(m.at),
      evidence: JSON.stringify({
        breach: m.status === 'revert',
        slos: [
          {
            slo: w.slo,
            status: m.status,
            burn_low: m.burn_low,
            burn_high: m.burn_high,
            line_burn: m.line_burn,
            attributable_consumed: null,
            post: { events: m.after_events, bad: m.after_bad, ratio: m.after_ratio },
            baseline_ratio: m.before_ratio,
            outage_guard: false,
          },
        ],
      }),
    })),
  );
}
