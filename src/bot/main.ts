import { resolve } from 'node:path';
import { run } from 'probot';
import type { TelemetrySource } from '../policy/sample.ts';
import { JsonlSource } from '../telemetry/jsonl/source.ts';
import { createPrometheusSource, prometheusOptionsFromEnv } from '../telemetry/prometheus/index.ts';
import { budgetGateApp } from './app.ts';
import { type BotConfig, readBotConfig } from './config.ts';
import { fromPino } from './log.ts';
import { openRevert } from './revert.ts';
import { reportShadow } from './shadow.ts';
import { openStore } from './store/open.ts';
import { Watcher } from './watcher.ts';

// `npm run bot`: Probot's server for the webhooks, and the watcher ticking beside it.

function openSource(c: BotConfig, env: NodeJS.ProcessEnv, cwd: string): TelemetrySource {
  if (c.BUDGET_GATE_TELEMETRY_FILE)
    return new JsonlSource({ path: resolve(cwd, c.BUDGET_GATE_TELEMETRY_FILE) });
  return createPrometheusSource(prometheusOptionsFromEnv(env));
}

async function main(): Promise<void> {
  const cwd = process.cwd();
  const config = readBotConfig(process.env);
  const store = await openStore(config.BUDGET_GATE_STORE, cwd);
  const source = openSource(config, process.env, cwd);
  const deps = { store, source, clock: Date.now, policyPath: config.BUDGET_GATE_POLICY_PATH };

  let watcher: Watcher | null = null;
  const server = await run(async (app, opts) => {
    await budgetGateApp(deps)(app, opts);
    const log = fromPino(app.log);
    watcher = new Watcher({
      store,
      source,
      clock: Date.now,
      replica: config.BUDGET_GATE_REPLICA,
      leaseMs: config.BUDGET_GATE_LEASE,
      log,
      revert: async (w, evidence, policy) =>
        openRevert(await app.auth(w.installation_id), w, evidence, policy, log),
      shadow: async (w, evidence) => reportShadow(await app.auth(w.installation_id), w, evidence, log),
    });
    log.info(
      `budget-gate bot: store ${store.kind}, telemetry ${source.name}, replica ${config.BUDGET_GATE_REPLICA}, tick ${config.BUDGET_GATE_TICK / 1000}s`,
    );
  });

  const timer = setInterval(() => {
    watcher?.tick().catch((e: Error) => console.error(`budget-gate tick failed: ${e.message}`));
  }, config.BUDGET_GATE_TICK);
  const stop = async () => {
    clearInterval(timer);
    await server.stop().catch(() => {});
    // Hand the leases back so another replica (or this one restarted) resumes at once.
    await store.release(config.BUDGET_GATE_REPLICA).catch(() => {});
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e: Error) => {
  console.error(`budget-gate bot: ${e.message}`);
  process.exit(1);
});
