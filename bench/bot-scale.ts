import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onDeploymentStatus } from '../src/bot/handlers/deployment-status.ts';
import { Watcher } from '../src/bot/watcher.ts';
import { createOctokit } from '../src/github/octokit.ts';
import type { NewWatch } from '../src/policy/canary/ports.ts';
import { DEMO_END, DEMO_POLICY } from '../src/scenarios/demo.ts';
import { SqliteWatchStore } from '../src/store/sqlite.ts';
import { createPrometheusSource } from '../src/telemetry/prometheus/index.ts';
import { startGitHub } from '../test/support/github-server.ts';
import { startFakePrometheus } from './lib/fake-prometheus.ts';
import { type Figure, median, quantile } from './lib/report.ts';

// 4. Bot scale: one process, an embedded SQLite store with 1 … 10,000 live watches, Prometheus on
// loopback. Per tick: metrics requests (should not grow with watches), duration, memory per watch.
// Then a burst of 1,000 deployment_status deliveries through the handler, against a local GitHub.

const AT = Date.parse(DEMO_END);
const MINUTE = 60_000;
const silent = { info() {}, warn() {}, error() {} };
const policyText = readFileSync(DEMO_POLICY, 'utf8');

function watch(i: number, deployedAt: number): NewWatch {
  return {
    deployment_id: 1_000_000 + i,
    owner: 'acme',
    repo: 'agents',
    installation_id: 1,
    environment: 'production',
    sha: i.toString(16).padStart(40, '0'),
    previous_sha: null,
    previous_deployment_id: null,
    default_branch: 'main',
    deployed_at: deployedAt,
    pull_number: null,
    pull_title: null,
    policy_text: policyText,
    policy_path: '.github/error-budget.yml',
  };
}

export async function botScale(sizes = [1, 100, 1000, 10_000], burst = 1000): Promise<Figure[]> {
  const figures: Figure[] = [];
  const prom = await startFakePrometheus();
  try {
    const ticks: { n: number; requests: number; ms: number; heapPerWatch: number }[] = [];
    for (const n of sizes) {
      const dir = mkdtempSync(join(tmpdir(), 'bg-bench-bot-'));
      const store = new SqliteWatchStore(join(dir, 'watches.sqlite'));
      // Deployments spread over the last 50 minutes: all still inside the 60-minute watch.
      for (let i = 0; i < n; i++)
        await store.add(watch(i, AT - ((i * 7919) % 50) * MINUTE - MINUTE), AT - 50 * MINUTE);
      global.gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      let now = AT;
      const watcher = new Watcher({
        store,
        // The stand-in server shares this process's event loop, which a 10,000-watch tick keeps busy
        // for seconds: a client timeout here would measure the bench, not the bot.
        source: createPrometheusSource({ url: prom.url, timeoutMs: 120_000 }),
        clock: () => now,
        replica: 'bench',
        revert: async () => ({ pull_number: 1, url: '', existing: false, draft: false }),
        log: silent,
      });
      const before = prom.requests;
      const durations: number[] = [];
      let peakHeap = 0;
      let requests = 0;
      let counted = 0;
      let retried = 0;
      for (let t = 0; t < 3; t++, now += MINUTE) {
        const t0 = performance.now();
        const report = await watcher.tick();
        durations.push(performance.now() - t0);
        peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
        // Requests the server was asked to answer: a retried attempt on a stale socket is not one.
        requests = report.metrics_requests - report.metrics_retries;
        counted += report.metrics_requests;
        retried += report.metrics_retries;
        if (report.evaluated !== n)
          throw new Error(`tick evaluated ${report.evaluated} of ${n} watches: ${report.errors.join('; ')}`);
      }
      ticks.push({
        n,
        requests,
        ms: median(durations),
        heapPerWatch: Math.max(0, peakHeap - heapBefore) / n,
      });
      // A retried attempt may never reach the server (a keep-alive socket it closed between ticks).
      const served = prom.requests - before;
      if (served > counted || served < counted - retried)
        throw new Error(
          `the source and the server disagree on requests at ${n} watches: the ticks counted ${counted} (${retried} retried), the server served ${served}`,
        );
      await store.close();
    }
    // Requests are bounded by the watch window's buckets (auto_revert.within / interval), not by
    // watches: past a few watches the figure is flat. The baseline is the 100-watch tick.
    const base = ticks.find((t) => t.n === 100) ?? ticks[0]!;
    for (const t of ticks) {
      figures.push({
        bench: 'bot',
        metric: `metrics requests per tick, ${t.n.toLocaleString('en-US')} watches`,
        value: t.requests,
        unit: '',
        baseline: { label: `${base.n} watches`, value: base.requests },
        ratio: t.requests / base.requests,
        ...(t.n >= base.n
          ? { target: 'flat as watches grow (ratio 1)', met: t.requests === base.requests }
          : {}),
      });
      figures.push({
        bench: 'bot',
        metric: `tick duration, ${t.n.toLocaleString('en-US')} watches`,
        value: t.ms,
        unit: 'ms',
        baseline: { label: '1 watch', value: ticks[0]!.ms },
        ratio: t.ms / ticks[0]!.ms,
        note: `${(t.ms / t.n).toFixed(2)} ms per watch`,
      });
    }
    const big = ticks.at(-1)!;
    figures.push({
      bench: 'bot',
      metric: `transient heap per watch during a tick, ${big.n.toLocaleString('en-US')} watches`,
      value: big.heapPerWatch / 1024,
      unit: 'KiB',
    });
  } finally {
    await prom.close();
  }

  // Webhook latency under a burst of deployment_status deliveries.
  const gh = await startGitHub();
  const dir = mkdtempSync(join(tmpdir(), 'bg-bench-hook-'));
  const store = new SqliteWatchStore(join(dir, 'watches.sqlite'));
  try {
    const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as {
      name: string;
      examples: Record<string, any>[];
    }[];
    const template = examples.find((e) => e.name === 'deployment_status')!.examples[0]!;
    const REPO = '/repos/Codertocat/Hello-World';
    gh.route('GET', `${REPO}/contents/.github%2Ferror-budget.yml`, [
      200,
      {
        type: 'file',
        sha: 'p',
        size: policyText.length,
        content: Buffer.from(policyText).toString('base64'),
        encoding: 'base64',
      },
    ]);
    gh.route('GET', `${REPO}/deployments`, [200, []]);
    gh.route('GET', `${REPO}/commits/${template.deployment.sha}/pulls`, [200, []]);
    // A first deploy is watched under its parent's policy: the deployed commit's first parent.
    gh.route('GET', `${REPO}/git/commits/${template.deployment.sha}`, [
      200,
      { sha: template.deployment.sha, parents: [{ sha: 'p'.repeat(40) }] },
    ]);
    const octokit = createOctokit({ token: 'ghs_bench', baseUrl: gh.url });
    const deps = {
      store,
      source: createPrometheusSource({ url: 'http://127.0.0.1:9' }),
      clock: () => AT,
      policyPath: '.github/error-budget.yml',
    };
    const latencies: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: burst }, async (_, i) => {
        const payload = structuredClone(template);
        payload.deployment.id = 5_000_000 + i;
        payload.installation = { id: 1 };
        const start = performance.now();
        const out = await onDeploymentStatus({ octokit, payload, log: silent }, deps);
        latencies.push(performance.now() - start);
        if (out.kind !== 'watching') throw new Error(`delivery ${i}: ${JSON.stringify(out)}`);
      }),
    );
    const wall = performance.now() - t0;
    figures.push({
      bench: 'bot',
      metric: `deployment_status handling p50, burst of ${burst}`,
      value: quantile(latencies, 0.5),
      unit: 'ms',
    });
    figures.push({
      bench: 'bot',
      metric: `deployment_status handling p99, burst of ${burst}`,
      value: quantile(latencies, 0.99),
      unit: 'ms',
    });
    figures.push({
      bench: 'bot',
      metric: `burst of ${burst} handled in`,
      value: wall,
      unit: 'ms',
      note: `${Math.round(burst / (wall / 1000))} deliveries/s; ${gh.requests.length} GitHub requests`,
    });
  } finally {
    await store.close();
    await gh.close();
  }
  return figures;
}
