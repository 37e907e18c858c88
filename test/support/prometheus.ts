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
// from OpenMetrics text the test writes, served on a free loopback port. No Prometheus on the
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

export async function startPrometheus(openMetrics: string): Promise<RunningPrometheus> {
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
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
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
    // Leave nothing behind: no server on a port, no temp TSDB.
    await stop();
    throw e;
  }
}

export interface CountingProxy {
  url: string;
  /** Every request that went through: method and path. */
  seen: string[];
  close(): Promise<void>;
}

/** Forwards to `target` and records each request, to count what one evaluation costs the server. */
export async function countingProxy(target: string): Promise<CountingProxy> {
  const to = new URL(target);
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
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
  return { ...(await listenLoopback(server)), seen };
}

/** What fetching `policy`'s request at `at` from the Prometheus at `url` fails with (undefined: nothing). */
export const fetchFailure = (url: string, policy: Policy, at: number): Promise<unknown> =>
  createPrometheusSource({ url })
    .fetch(planRequest(policy, at))
    .then(
      () => undefined,
      (e: unknown) => e,
    );
