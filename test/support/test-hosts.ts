import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { freePort } from './ports.ts';

// Made-up hosts (`api.github.test`) for requests that must go through a proxy: a client sends
// them to the proxy, which CONNECTs here, and this maps each host:port to a local server, ending
// TLS itself for the https ones with a certificate made for the test. The client trusts that
// certificate through NODE_EXTRA_CA_CERTS. Nothing but the proxy can reach these names.

export interface TestHosts {
  port: number;
  /** The certificate's file, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** `host:port` tunnels opened, in order. */
  tunnels: string[];
  close(): Promise<void>;
}

export async function startTestHosts(
  routes: Record<string, { port: number; tls: boolean }>,
): Promise<TestHosts> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-hosts-'));
  const names = [...new Set(Object.keys(routes).map((k) => k.split(':')[0]!))];
  const key = join(dir, 'key.pem');
  const caFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${names[0]}`,
      '-addext',
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
      '-keyout',
      key,
      '-out',
      caFile,
    ],
    { stdio: 'pipe' },
  );
  const credentials = { key: readFileSync(key), cert: readFileSync(caFile) };
  const tunnels: string[] = [];
  const server: Server = createServer((_req, res) => {
    res.writeHead(405);
    res.end('only CONNECT');
  });
  server.on('connect', (req, socket, head) => {
    const target = req.url ?? '';
    tunnels.push(target);
    const route = routes[target];
    if (!route) {
      socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    const client = route.tls ? new TLSSocket(socket, { isServer: true, ...credentials }) : socket;
    const upstream = connect(route.port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const end = () => {
      upstream.destroy();
      socket.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    caFile,
    tunnels,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          r();
        });
      }),
  };
}
