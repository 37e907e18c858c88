import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

// A real Prometheus for the tests: Debian's `prometheus` and `promtool`, a temporary TSDB built
// from OpenMetrics text the test writes, served on a free loopback port. No Prometheus on the
// machine is a failure with the reason, never a skip.

function binary(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/local/bin'])) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new Error(
    `${name} not found: install Debian's prometheus package (apt-get install prometheus); .ci/run does this`,
  );
}

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
  const prometheus = binary('prometheus');
  const promtool = binary('promtool');
  const version = versionOf(prometheus);
  const dir = mkdtempSync(join(tmpdir(), 'bg-prom-'));
  let child: ChildProcess | null = null;
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
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
    const proc = spawn(
      prometheus,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${data}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=100y',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    let log = '';
    proc.stderr?.on('data', (d) => {
      log += d;
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`prometheus exited ${proc.exitCode}: ${log.slice(-2000)}`);
      try {
        const res = await fetch(`${url}/-/ready`);
        if (res.ok) break;
      } catch {}
      if (Date.now() > deadline)
        throw new Error(`prometheus not ready on ${url} after 30 s: ${log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
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
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
