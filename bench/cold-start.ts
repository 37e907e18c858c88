import { statSync } from 'node:fs';
import { DIST, runDist, runNode, startServers } from './lib/action-run.ts';
import { type Figure, median } from './lib/report.ts';

// 1. Gate cold start: the built action as a fresh process on a PR event, GitHub and Prometheus on
// loopback, start to exit — against a bare `node -e 0` in the same run.

export async function coldStart(runs = 15): Promise<Figure[]> {
  const servers = await startServers();
  try {
    const bare: number[] = [];
    const load: number[] = [];
    const full: number[] = [];
    await runDist(servers, 'pr'); // warm the OS file cache
    for (let i = 0; i < runs; i++) {
      bare.push(await runNode(['-e', '0']));
      // Parse and evaluate the bundle only: an unknown event fails fast before any I/O.
      load.push(
        await runNode([
          '--input-type=module',
          '-e',
          `process.env.GITHUB_EVENT_PATH='';await import(${JSON.stringify(DIST)})`,
        ]),
      );
      full.push((await runDist(servers, 'pr')).ms);
    }
    const b = median(bare);
    const l = median(load);
    const f = median(full);
    return [
      {
        bench: 'cold-start',
        metric: 'gate on a PR, start to exit',
        value: f,
        unit: 'ms',
        baseline: { label: 'node -e 0', value: b },
        ratio: f / b,
        target: '<= 1.5',
        met: f / b <= 1.5,
      },
      { bench: 'cold-start', metric: 'bundle size', value: statSync(DIST).size / 1024, unit: 'KiB' },
      {
        bench: 'cold-start',
        metric: 'of which loading the bundle (parse + module init)',
        value: l - b,
        unit: 'ms',
        note: `${Math.round(((l - b) / (f - b)) * 100)}% of the time above bare node`,
      },
      {
        bench: 'cold-start',
        metric: 'of which policy parse, telemetry and GitHub HTTP, decision, report',
        value: f - l,
        unit: 'ms',
        note: `${Math.round(((f - l) / (f - b)) * 100)}% of the time above bare node`,
      },
    ];
  } finally {
    await servers.close();
  }
}
