import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type ApplicationFunction, createNodeMiddleware, type Probot } from 'probot';
import type { DashboardHandler } from '../dashboard/config.ts';
import type { BotLog } from './log.ts';
import { type GuardLimits, WebhookGuard } from './webhook-guard.ts';

// The bot's HTTP server: the webhook guard (webhook-guard.ts) in front of Probot's middleware, so
// no unsigned or oversized body is ever buffered whole, then the dashboard when it is configured
// (it answers under its own path, /dashboard, and nothing else), then the app's own handlers
// (/healthz, /metrics) and Probot's webhook handling. Built here rather than by Probot's `run()`, whose server
// puts Probot's middleware first with no room in front of it.

export const DEFAULT_WEBHOOK_PATH = '/api/github/webhooks';

export interface BotServerOptions {
  probot: Probot;
  app: ApplicationFunction;
  secret: string;
  webhookPath?: string;
  limits?: Partial<GuardLimits>;
  log: BotLog;
  /** The signed-in dashboard (src/dashboard/config.ts), or nothing: it is off unless configured. */
  dashboard?: DashboardHandler | null;
}

export interface BotServer {
  server: Server;
  guard: WebhookGuard;
}

export async function createBotServer(o: BotServerOptions): Promise<BotServer> {
  const path = o.webhookPath ?? DEFAULT_WEBHOOK_PATH;
  const guard = new WebhookGuard({ secret: o.secret, path, ...(o.limits ? { limits: o.limits } : {}) });
  const handle = await createNodeMiddleware(o.app, { probot: o.probot, webhooksPath: path });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        if (await guard.admit(req, res)) return;
        if (o.dashboard && (await o.dashboard(req, res))) return;
        await handle(req, res, () => {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(`${JSON.stringify({ error: 'not found' })}\n`);
        });
      } catch (e) {
        o.log.error(`bot server: ${req.method} ${(req.url ?? '').split('?')[0]}: ${(e as Error).message}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      }
    })();
  });
  return { server, guard };
}
