import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { binary, serverScratch, startServer } from './server-process.ts';

// A real single-node VictoriaMetrics (Debian's `victoria-metrics`) on a free loopback port, with
// the test's series pushed through its JSON-lines import API and flushed so queries see them.

export interface RunningVictoriaMetrics {
  url: string;
  /** e.g. 1.79.5. */
  version: string;
  stop(): Promise<void>;
}

function versionOf(vm: string): string {
  // Debian's build prints nothing for -version; its /metrics page names it instead (see below).
  const out = execFileSync(vm, ['-version'], { encoding: 'utf8', stdio: 'pipe' });
  return /v(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? '';
}

export async function startVictoriaMetrics(jsonLines: string): Promise<RunningVictoriaMetrics> {
  const vm = binary('victoria-metrics', 'victoria-metrics');
  const { dir, started, stop } = serverScratch('bg-vm-');
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    started(
      await startServer(
        'victoria-metrics',
        vm,
        [
          `-httpListenAddr=127.0.0.1:${port}`,
          `-storageDataPath=${join(dir, 'data')}`,
          // The tests' series are stamped days or years away from today: keep them all.
          '-retentionPeriod=100y',
          // A cached answer would hide a query difference between two runs.
          '-search.disableCache',
          '-loggerLevel=ERROR',
        ],
        async () => (await fetch(`${url}/health`)).ok,
      ),
    );
    const res = await fetch(`${url}/api/v1/import`, { method: 'POST', body: jsonLines });
    if (!res.ok)
      throw new Error(`VictoriaMetrics refused the test's series: HTTP ${res.status} ${await res.text()}`);
    // Imported rows become searchable after an in-memory buffer is flushed (about a second later).
    const flushed = await fetch(`${url}/internal/force_flush`);
    if (!flushed.ok) throw new Error(`VictoriaMetrics force_flush: HTTP ${flushed.status}`);
    let version = versionOf(vm);
    if (!version) {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      version = /vm_app_version\{[^}]*version="[^"]*?v(\d+\.\d+\.\d+)/.exec(metrics)?.[1] ?? 'unknown';
    }
    return { url, version, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
