import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkHealth, type Probe } from './health.ts';
import type { BotLog } from './log.ts';
import type { BotMetrics } from './metrics.ts';
import type { Watcher } from './watcher.ts';

// The bot's timers: the watcher's ticks and the missed-delivery recovery, each run at start and
// then periodically, one at a time; and a stop that waits for whatever is running, so the leases
// are released and the store closed only once no tick can write again.

export interface ServiceOptions {
  watcher: Watcher;
  metrics: BotMetrics;
  log: BotLog;
  tickMs: number;
  /** Asks GitHub for missed webhooks; omitted when recovery is off. */
  recover?: () => Promise<void>;
  recoverMs?: number;
  /** Further periodic work (the always-on evaluator, repository discovery): each run one at a time. */
  loops?: Loop[];
}

export interface Loop {
  name: string;
  everyMs: number;
  /** The first run this long after start (default: at once). */
  firstAfterMs?: number;
  run: () => Promise<void>;
  /** Asks the run in progress to end early (between repositories), before stop() waits for it. */
  stop?: () => Promise<void>;
}

export class BotService {
  private readonly timers: NodeJS.Timeout[] = [];
  private recovering: Promise<void> | null = null;
  private stopped = false;
  private ticking = false;
  private readonly looping = new Map<string, Promise<void>>();

  private readonly o: ServiceOptions;

  constructor(o: ServiceOptions) {
    this.o = o;
  }

  start(): void {
    void this.tick();
    this.timers.push(setInterval(() => void this.tick(), this.o.tickMs));
    if (this.o.recover) {
      void this.recover();
      this.timers.push(setInterval(() => void this.recover(), this.o.recoverMs ?? 5 * 60_000));
    }
    for (const loop of this.o.loops ?? []) {
      if (!loop.firstAfterMs) void this.loop(loop);
      this.timers.push(setInterval(() => void this.loop(loop), loop.everyMs));
    }
  }

  /** One run of a loop unless one is still going; its failure is logged and the next run retries. */
  loop(l: Loop): Promise<void> {
    if (this.stopped) return Promise.resolve();
    let p = this.looping.get(l.name);
    if (!p) {
      p = l
        .run()
        .catch((e: Error) => this.o.log.error(`budget-gate ${l.name} failed: ${e.message}`))
        .finally(() => this.looping.delete(l.name));
      this.looping.set(l.name, p);
    }
    return p;
  }

  async tick(): Promise<void> {
    // A tick still running (a slow revert) is not joined: its report would be counted twice.
    if (this.stopped || this.ticking) return;
    this.ticking = true;
    const started = performance.now();
    try {
      const report = await this.o.watcher.tick();
      this.o.metrics.tick(report, (performance.now() - started) / 1000, Date.now());
    } catch (e) {
      this.o.metrics.tickFailed((performance.now() - started) / 1000);
      this.o.log.error(`budget-gate tick failed: ${(e as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  recover(): Promise<void> {
    if (this.stopped || !this.o.recover) return Promise.resolve();
    this.recovering ??= this.o
      .recover()
      .catch((e: Error) => this.o.log.warn(`missed-webhook recovery failed, will retry: ${e.message}`))
      .finally(() => {
        this.recovering = null;
      });
    return this.recovering;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.all([
      this.o.watcher.stop(),
      this.recovering,
      ...(this.o.loops ?? []).map((l) => l.stop?.()),
      ...this.looping.values(),
    ]);
  }
}

/** /healthz and /metrics, as a Probot server handler (true: answered). */
export function opsHandler(metrics: BotMetrics, probes: Record<string, Probe>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET') return false;
    if (path === '/metrics') {
      const body = await metrics.text();
      res.writeHead(200, { 'content-type': metrics.contentType });
      res.end(body);
      return true;
    }
    if (path === '/healthz') {
      const health = await checkHealth(probes);
      res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(health)}\n`);
      return true;
    }
    return false;
  };
}
