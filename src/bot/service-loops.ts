import type { Probot } from 'probot';
import type { TelemetrySource } from '../policy/gate/ports.ts';
import type { SqlWatchStore } from '../store/sql.ts';
import { Alerting } from './alerting.ts';
import { AuditSync } from './audit-sync.ts';
import type { BotConfig } from './config.ts';
import { DISCOVERY_LEASE, discover } from './discover.ts';
import { Evaluator } from './evaluator.ts';
import type { LastAttempts } from './health.ts';
import { IncidentIssues } from './incident-issue.ts';
import { runLeased } from './leased-task.ts';
import type { BotLog } from './log.ts';
import type { BotMetrics } from './metrics.ts';
import { ReadinessSync } from './readiness-sync.ts';
import { recheckHeld } from './recheck.ts';
import type { Loop } from './service.ts';

// The always-on service's loops beside the watcher (BUDGET_GATE_EVALUATE=on): repository
// discovery, audit log and readiness reads, and the evaluator whose decisions page and re-check
// held pull requests. Each loop is one row: its name, how often, what it runs, how it stops.

interface LoopDeps {
  config: BotConfig;
  store: SqlWatchStore;
  source: TelemetrySource;
  clock: () => number;
  replica: string;
  app: Probot;
  log: BotLog;
  metrics: BotMetrics;
  attempts: LastAttempts;
}

export function serviceLoops({
  config,
  store,
  source,
  clock,
  replica,
  app,
  log,
  metrics,
  attempts,
}: LoopDeps): Loop[] {
  const discovery = { stopping: false };
  const issues = new IncidentIssues({
    store: store.incidents,
    log,
    overrides: (repo, from, to) => store.records.auditBetween(repo, 'override-applied', from, to),
    deployments: async (repo, since) =>
      (await store.list())
        .filter((w) => `${w.owner}/${w.repo}` === repo && w.deployed_at >= since)
        .map((w) => ({
          id: w.deployment_id,
          environment: w.environment,
          sha: w.sha,
          at: w.deployed_at,
          status: w.status,
          revert_pr: w.revert_pr,
        })),
  });
  const alerting = new Alerting({
    incidents: store.incidents,
    ledger: store.ledger,
    env: process.env,
    log,
    hooks: issues,
  });
  const audit = new AuditSync({
    records: store.records,
    log,
    policyPath: config.BUDGET_GATE_POLICY_PATH,
  });
  const readiness = new ReadinessSync({
    readiness: store.readiness,
    incidents: store.incidents,
    log,
    policyPath: config.BUDGET_GATE_POLICY_PATH,
  });
  const evaluator = new Evaluator({
    store: store.service,
    decisions: store.records,
    source,
    clock,
    replica,
    leaseMs: config.BUDGET_GATE_LEASE,
    floorMs: config.BUDGET_GATE_EVALUATION_FLOOR,
    policyPath: config.BUDGET_GATE_POLICY_PATH,
    github: (id) => app.auth(id),
    log,
    onEvaluated: async (e) => {
      await alerting.onEvaluated(e);
      const before = e.repo.last_state;
      if (e.telemetryError === null && before !== null && before !== e.decision.state) {
        await recheckHeld(
          e.gh,
          { owner: e.repo.owner, repo: e.repo.repo },
          before,
          e.decision.state,
          config.BUDGET_GATE_GATE_CHECK,
          log,
        ).catch((err: Error) =>
          log.warn(`${e.repo.full_name}: held pull requests not re-checked: ${err.message}`),
        );
      }
    },
  });
  return [
    {
      name: 'repository discovery',
      // Each replica asks every tick whether discovery is due; the one holding the lease runs it.
      everyMs: Math.min(config.BUDGET_GATE_TICK, config.BUDGET_GATE_DISCOVER_EVERY),
      run: async () => {
        const run = await runLeased(
          {
            leases: store.leases,
            name: DISCOVERY_LEASE,
            replica,
            leaseMs: config.BUDGET_GATE_LEASE,
            everyMs: config.BUDGET_GATE_DISCOVER_EVERY,
            clock,
            log,
            stopping: () => discovery.stopping,
          },
          async (held) =>
            discover({
              app: await app.auth(),
              installation: (id) => app.auth(id),
              sync: (id, repos) => store.service.sync(id, repos, clock()),
              log,
              held,
            }),
        );
        if (run && !run.result.interrupted) {
          log.info(
            `budget-gate: ${run.result.repos} repositories in ${run.result.installations} installations`,
          );
        }
      },
      stop: async () => {
        discovery.stopping = true;
      },
    },
    {
      name: 'audit log reads',
      everyMs: config.BUDGET_GATE_AUDIT_EVERY,
      firstAfterMs: config.BUDGET_GATE_AUDIT_EVERY,
      run: async () => {
        const r = await audit.round(await store.service.list(), (id) => app.auth(id), clock());
        if (r.read + r.failed > 0)
          log.info(
            `budget-gate: audit logs: ${r.read} read (${r.added} new records), ${r.unchanged} unchanged, ${r.failed} failed`,
          );
      },
    },
    {
      // Each repository at most hourly (a free 304 when its branch did not move), or after a push.
      name: 'readiness verdicts',
      everyMs: config.BUDGET_GATE_AUDIT_EVERY,
      firstAfterMs: config.BUDGET_GATE_AUDIT_EVERY,
      run: async () => {
        const r = await readiness.round(await store.service.list(), (id) => app.auth(id), clock());
        if (r.computed + r.failed > 0)
          log.info(
            `budget-gate: readiness: ${r.computed} worked out, ${r.unchanged} unchanged, ${r.failed} failed (${r.requests} requests)`,
          );
      },
    },
    {
      name: 'evaluator',
      everyMs: config.BUDGET_GATE_EVALUATE_TICK,
      run: async () => {
        const started = performance.now();
        const r = await evaluator.round();
        metrics.round(r, (performance.now() - started) / 1000, clock());
        // Telemetry's last attempt: any evaluation that read it, or the first error if none could.
        if (r.succeeded.size > 0) attempts.record('telemetry', true);
        else if (r.evaluated > 0) attempts.record('telemetry', false, r.errors[0] ?? 'telemetry unreadable');
      },
      stop: () => evaluator.stop(),
    },
  ];
}
