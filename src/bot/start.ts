import { resolve } from 'node:path';
import { type ApplicationFunction, createProbot, run as probotSetup } from 'probot';
import { dashboardWanted } from '../dashboard/env.ts';
import type { TelemetrySource } from '../policy/gate/ports.ts';
import { openStore } from '../store/open.ts';
import { openTelemetry } from '../telemetry/open.ts';
import { prometheusOptionsFromEnv } from '../telemetry/prometheus/options.ts';
import { budgetGateApp } from './app.ts';
import { type BotConfig, botClock, readBotConfig } from './config.ts';
import { Escalator } from './escalation.ts';
import { onProtectionRule } from './handlers/protection-rule.ts';
import { bothProbes, fileProbe, LastAttempts, type Probe, prometheusProbe, storeProbe } from './health.ts';
import { type BotLog, fromPino } from './log.ts';
import { BotMetrics } from './metrics.ts';
import { botOctokit } from './octokit.ts';
import { PAGERDUTY_SECRET_ENV, pagerdutyWebhookHandler } from './pagerduty-webhook.ts';
import { answerPendingRules } from './pending-rules.ts';
import { recoverMissedDeliveries } from './redeliver.ts';
import { reportRevertFailed } from './revert/failed.ts';
import { openRevert } from './revert/revert.ts';
import { createBotServer, DEFAULT_WEBHOOK_PATH } from './server.ts';
import { BotService, type Loop, opsHandler } from './service.ts';
import { serviceLoops } from './service-loops.ts';
import { reportShadow } from './shadow.ts';
import { Watcher } from './watcher.ts';

// The bot as `npm run bot` starts it (main.ts only calls run()): the webhook server (server.ts: a
// guard on every body, then Probot; and /healthz, /metrics), the watcher ticking beside it, the
// service's loops (service-loops.ts), and the recovery of webhooks missed while the bot was down or
// whose handler did not finish.

async function openSource(
  c: BotConfig,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<[TelemetrySource, Probe]> {
  const file = c.BUDGET_GATE_TELEMETRY_FILE;
  const prometheus = file ? undefined : prometheusOptionsFromEnv(env);
  const source = await openTelemetry({ file, prometheus }, cwd, {
    file: 'BUDGET_GATE_TELEMETRY_FILE',
    prometheus: 'BUDGET_GATE_PROMETHEUS_URL',
  });
  return [source, file ? fileProbe(resolve(cwd, file)) : prometheusProbe(prometheus!)];
}

const consoleLog: BotLog = { info: console.info, warn: console.warn, error: console.error };

/** The bot process: the server, the watcher, the service's loops, and a clean stop on a signal. */
export async function run(): Promise<void> {
  const cwd = process.cwd();
  if (!process.env.APP_ID) {
    // Not registered yet: Probot's setup page registers the app from app.yml and writes .env.
    console.info("budget-gate bot: no APP_ID: serving Probot's setup page to register the app");
    await probotSetup(() => {});
    return;
  }
  const config = readBotConfig(process.env);
  const replica = config.BUDGET_GATE_REPLICA;
  const clock = botClock(config);
  if (config.BUDGET_GATE_TEST_CLOCK) {
    const { rate, origin } = config.BUDGET_GATE_TEST_CLOCK;
    console.warn(
      `budget-gate bot: BUDGET_GATE_TEST_CLOCK: a test clock, ${rate}x the wall clock from ${new Date(origin).toISOString()}`,
    );
  }
  let log = consoleLog; // Probot's logger once it exists
  const store = await openStore(config.BUDGET_GATE_STORE, cwd, {
    onError: (e) =>
      log.error(`store: PostgreSQL connection lost (the pool reconnects on next use): ${e.message}`),
  });
  const [source, telemetryProbe] = await openSource(config, process.env, cwd);
  const metrics = new BotMetrics();
  const attempts = new LastAttempts();
  const evaluating = config.BUDGET_GATE_EVALUATE === 'on';
  const deps = {
    store,
    source,
    clock,
    policyPath: config.BUDGET_GATE_POLICY_PATH,
    ...(evaluating
      ? {
          repos: store.service,
          incidents: store.incidents,
          records: store.records,
          readiness: store.readiness,
          gateCheckName: config.BUDGET_GATE_DECISION_CHECK,
        }
      : {}),
  };
  // Off unless configured; half a configuration stops the bot here, naming what is missing.
  const gheHost = process.env.GHE_HOST;
  // Its modules (pages, charts: half of the bot's) load only when it is configured.
  const dashboard = dashboardWanted(process.env)
    ? (await import('../dashboard/config.ts')).dashboardFromEnv(
        process.env,
        new (await import('../dashboard/sql-store.ts')).SqlDashboardStore(store, {
          policyPath: config.BUDGET_GATE_POLICY_PATH,
        }),
        gheHost ? { apiUrl: `${process.env.GHE_PROTOCOL || 'https'}://${gheHost}/api/v3` } : {},
      )
    : null;

  let service: BotService | null = null;
  const probot = createProbot({
    overrides: {
      Octokit: botOctokit({
        replica,
        metrics,
        // A 5xx or no answer is GitHub failing; any other answer (a 404, a 403) is GitHub reachable.
        onResponse: (status) =>
          attempts.record(
            'github',
            status !== null && status < 500,
            status === null ? 'no answer from GitHub' : `GitHub answered ${status}`,
          ),
        ...(config.BUDGET_GATE_GITHUB_WRITE_GAP !== undefined
          ? { writeGapMs: config.BUDGET_GATE_GITHUB_WRITE_GAP }
          : {}),
      }),
    },
  });
  const app: ApplicationFunction = async (app, opts) => {
    await budgetGateApp(deps)(app, opts);
    log = fromPino(app.log);
    opts.addHandler(
      pagerdutyWebhookHandler({
        secret: process.env[PAGERDUTY_SECRET_ENV],
        incidents: store.incidents,
        log,
        clock,
      }),
    );
    opts.addHandler(
      opsHandler(metrics, {
        store: storeProbe(store),
        telemetry: bothProbes(telemetryProbe, attempts.probe('telemetry')),
        github: attempts.probe('github'),
      }),
    );
    const watcher = new Watcher({
      store,
      source,
      clock,
      replica,
      leaseMs: config.BUDGET_GATE_LEASE,
      maxAttempts: config.BUDGET_GATE_REVERT_ATTEMPTS,
      backoffMs: config.BUDGET_GATE_REVERT_BACKOFF,
      log,
      hooks: new Escalator({
        store,
        log,
        env: process.env,
        ledger: store.ledger,
        auth: (id) => app.auth(id),
      }),
      revert: async (w, evidence, policy, ctx) =>
        openRevert(await app.auth(w.installation_id), w, evidence, policy, log, ctx),
      reportFailure: async (w, evidence, failure) =>
        reportRevertFailed(await app.auth(w.installation_id), w, evidence, failure),
      shadow: async (w, evidence) => reportShadow(await app.auth(w.installation_id), w, evidence, log),
    });
    const loops: Loop[] = [];
    if (evaluating)
      loops.push(...serviceLoops({ config, store, source, clock, replica, app, log, metrics, attempts }));
    const every = config.BUDGET_GATE_RECOVER_EVERY;
    service = new BotService({
      loops,
      watcher,
      metrics,
      log,
      tickMs: config.BUDGET_GATE_TICK,
      ...(every === null
        ? {}
        : {
            recoverMs: every,
            recover: async () => {
              const now = clock();
              const since = now - config.BUDGET_GATE_RECOVER_LOOKBACK;
              const r = await recoverMissedDeliveries(await app.auth(), {
                since,
                now,
                log,
                handled: (s: number) => store.handledDeliveries(s),
              });
              metrics.redelivered(r.redelivered.length);
            },
          }),
    });
    log.info(
      `budget-gate bot: store ${store.kind}, telemetry ${source.name}, replica ${replica}, tick ${config.BUDGET_GATE_TICK / 1000}s`,
    );
  };
  const { server, guard } = await createBotServer({
    probot,
    app,
    secret: process.env.WEBHOOK_SECRET ?? '',
    webhookPath: process.env.WEBHOOK_PATH || DEFAULT_WEBHOOK_PATH,
    log,
    dashboard,
  });
  metrics.webhookGuard(() => guard.stats());
  const host = process.env.HOST || 'localhost';
  const port = Number(process.env.PORT || 3000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  // The port bound, not the one asked for: PORT=0 takes any free one (how the tests run replicas).
  const bound = server.address();
  log.info(
    `budget-gate bot: listening on http://${host}:${typeof bound === 'object' && bound ? bound.port : port}${dashboard ? '; dashboard on' : ''}`,
  );
  (service as BotService | null)?.start();
  // Deployments held by this app's rule whose delivery is lost for good are judged now.
  void (async () => {
    const r = await answerPendingRules({
      app: await probot.auth(),
      auth: (id) => probot.auth(id),
      judge: async (gh, rule) => {
        await onProtectionRule({ octokit: gh, payload: rule.payload, log }, deps);
      },
      log,
    });
    if (r.answered) log.info(`answered ${r.answered} protection rule(s) left waiting`);
  })().catch((e: Error) => log.warn(`could not look for unanswered protection rules: ${e.message}`));

  const stop = async () => {
    // The tick in progress ends first, then the webhooks; only then can no one write a lease again.
    await (service as BotService | null)?.stop();
    await Promise.race([
      new Promise<void>((r) =>
        server.close((e) => {
          if (e) log.warn(`could not stop the webhook server cleanly: ${e.message}`);
          r();
        }),
      ),
      new Promise((r) => setTimeout(r, 10_000).unref()),
    ]);
    // Hand the leases back so another replica (or this one restarted) resumes at once.
    await store.release(replica).catch((e: Error) => log.warn(`could not release leases: ${e.message}`));
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
