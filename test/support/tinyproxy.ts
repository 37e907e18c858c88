import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { binary, serverScratch, startServer } from './server-process.ts';

// A real forward proxy, Debian's tinyproxy, on a free loopback port with its own config and log.
// Its log names every request it carried (`Request (file descriptor 5): CONNECT host:443`), which
// is how a test knows what went through it. Hosts under `.test` exist nowhere: tinyproxy hands
// them to an "upstream proxy" the test runs (see test-hosts.ts), which plays their DNS.

export interface RunningTinyproxy {
  url: string;
  /** Request lines tinyproxy logged so far: `CONNECT api.github.test:443`, `GET http://…`. */
  requests(): string[];
  stop(): Promise<void>;
}

export async function startTinyproxy(opts: {
  upstreamPort: number;
  domain: string;
}): Promise<RunningTinyproxy> {
  const tinyproxy = binary('tinyproxy', 'tinyproxy');
  const { dir, started, stop } = serverScratch('bg-tinyproxy-');
  const log = join(dir, 'tinyproxy.log');
  try {
    const port = await freePort();
    writeFileSync(log, '');
    writeFileSync(
      join(dir, 'tinyproxy.conf'),
      [
        `Port ${port}`,
        'Listen 127.0.0.1',
        'Timeout 30',
        `LogFile "${log}"`,
        'LogLevel Connect',
        'MaxClients 20',
        'Allow 127.0.0.1',
        // No ConnectPort line: CONNECT to any port (fetch tunnels plain http:// through CONNECT too).
        `Upstream http 127.0.0.1:${opts.upstreamPort} "${opts.domain}"`,
        '',
      ].join('\n'),
    );
    started(
      await startServer(
        'tinyproxy',
        tinyproxy,
        ['-d', '-c', join(dir, 'tinyproxy.conf')],
        () =>
          new Promise<boolean>((resolve) => {
            const s = connect(port, '127.0.0.1', () => {
              s.destroy();
              resolve(true);
            });
            s.on('error', () => resolve(false));
          }),
      ),
    );
    return {
      url: `http://127.0.0.1:${port}`,
      requests: () =>
        [...readFileSync(log, 'utf8').matchAll(/Request \(file descriptor \d+\): (\S+ \S+)/g)].map(
          (m) => m[1]!,
        ),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
