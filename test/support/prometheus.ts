import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planRequest } from '../../src/policy/gate/plan.ts';
import type { Policy } from '../../src/policy/spec/schema.ts';
import { createPrometheusSource } from '../../src/telemetry/prometheus/index.ts';
import { freePort, listenLoopback } from './ports.ts';
import { binary, type ServerProcess, startServer } from './server-process.ts';

// A real Prometheus for the tests: Debian's `prometheus` and `promtool`, a temporary TSDB built
// from OpenMetrics text the test writes, served on a free loopback port (another one if a run
// beside this one took it first), and optionally scraping a live target. No Prometheus on the
// machine is a failure with the reason, never a skip.

export interface RunningPrometheus {
  url: string;
  /** `prometheus --version`'s number, e.g. 2.42.0: range selectors changed at 3.0. */
  version: string;
  stop(): Promise<void>;
}

function versionOf(prometheus: string): string {
  const out = execFileSync(prometheus, ['--version'], { encoding: 'utf8', stdio: 'pipe' });
  const m = /version (\d+\.\d+\.\d+)/.exec(out);
  if (!m) throw new Error(`cannot read the version from \`prometheus --version\`: ${out.slice(0, 200)}`);
  return m[1]!;
}

export interface PrometheusOptions {
  /** A target Prometheus scrapes every `every` (e.g. `1s`), keeping the labels it exports (`honor_labels`). */
  scrape?: { target: string; every: string };
}

/** A port taken between choosing it and binding it (another test run beside this one): try another. */
const PORT_TAKEN = /address already in use/i;

export async function startPrometheus(
  openMetrics: string,
  o: PrometheusOptions = {},
): Promise<RunningPrometheus> {
  const prometheus = binary('prometheus', 'prometheus');
  const promtool = binary('promtool', 'prometheus');
  const version = versionOf(prometheus);
  const dir = mkdtempSync(join(tmpdir(), 'bg-prom-'));
  let server: ServerProcess | null = null;
  const stop = async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const data = join(dir, 'data');
    writeFileSync(join(dir, 'series.om'), openMetrics);
    try {
      execFileSync(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'series.om'), data], {
        stdio: 'pipe',
      });
    } catch (e) {
      const stderr = String((e as { stderr?: Buffer }).stderr ?? '').slice(-2000);
      throw new Error(`promtool could not load the test's series: ${stderr || (e as Error).message}`);
    }
    const scrape = o.scrape
      ? [
          'scrape_configs:',
          '  - job_name: agents',
          '    honor_labels: true',
          `    scrape_interval: ${o.scrape.every}`,
          `    scrape_timeout: ${o.scrape.every}`,
          '    static_configs:',
          `      - targets: ['${new URL(o.scrape.target).host}']`,
        ]
      : [];
    writeFileSync(
      join(dir, 'prometheus.yml'),
      ['global:', '  scrape_interval: 1h', ...scrape, ''].join('\n'),
    );
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      try {
        server = await startServer(
          'prometheus',
          prometheus,
          [
            `--config.file=${join(dir, 'prometheus.yml')}`,
            `--storage.tsdb.path=${data}`,
            `--web.listen-address=127.0.0.1:${port}`,
            '--storage.tsdb.retention.time=100y',
            '--log.level=warn',
          ],
          async () => (await fetch(`${url}/-/ready`)).ok,
        );
        return { url, version, stop };
      } catch (e) {
        if (attempt >= 5 || !PORT_TAKEN.test((e as Error).message)) throw e;
      }
    }
  } catch (e) {
    // Leave nothing behind: no server on a port, no temp TSDB.
    await stop();
    throw e;
  }
}

export interface CountingProxy {
  url: string;
  /** Every request that went through: method and path. */
  seen: string[];
  /** The same requests' bodies (a form-encoded query), in the same order. */
  bodies: string[];
  close(): Promise<void>;
}

/** Forwards to `target` and records each request, to count what one evaluation costs the server. */
export async function countingProxy(target: string): Promise<CountingProxy> {
  const to = new URL(target);
  const seen: string[] = [];
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const i = seen.push(`${req.method} ${req.url}`) - 1;
    bodies[i] = '';
    req.on('data', (d) => {
      bodies[i] += d;
    });
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  return { ...(await listenLoopback(server)), seen, bodies };
}

/** What fetching `policy`'s request at `at` from the Prometheus at `url` fails with (undefined: nothing). */
export const fetchFailure = (url: string, policy: Policy, at: number): Promise<unknown> =>
  createPrometheusSource({ url })
    .fetch(planRequest(policy, at))
    .then(
      () => undefined,
      (e: unknown) => e,
    );
