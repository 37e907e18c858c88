import { createServer, type Server } from 'node:http';
import type { DashboardOptions } from '../../src/dashboard/server.ts';
import { dashboardHandler } from '../../src/dashboard/server.ts';
import { listenLoopback } from './ports.ts';

/** The dashboard handler on a loopback server of its own, as the bot or the CLI would mount it. */
export async function serveDashboard(
  opts: DashboardOptions,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const handle = dashboardHandler(opts);
  const server = createServer((req, res) => {
    handle(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(404).end('outside the dashboard\n');
      },
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  return { ...(await listenLoopback(server)), server };
}
