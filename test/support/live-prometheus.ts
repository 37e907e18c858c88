import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RunningPrometheus, startPrometheus } from './prometheus.ts';
import { toOpenMetrics } from './series.ts';

// Live telemetry for a bot process: a fleet of instrumented agents exporting one counter,
// `agent_tasks_total{outcome="ok"|"error"}`, on a loopback /metrics that a real Prometheus scrapes
// every second, with the hours before the test backfilled into its TSDB (promtool) from the same
// counters — one continuous series, as if Prometheus had scraped the agents all along. The test
// changes what share of tasks fails from now on (`setFailing`), never the past: a burn that stops
// leaves the windows as it would in production, minute by minute.

const SERIES_LABELS = { job: 'agents', instance: 'agents-0' };
/** Resolution of the backfilled history (the live part is scraped every second). */
const HISTORY_STEP_MS = 15_000;
/** Prometheus throttles target updates to one per 5 s: the first scrape comes a few seconds after start. */
const FIRST_SCRAPE_MS = 30_000;

export interface Traffic {
  /** Tasks a minute, all along. */
  perMinute: number;
  /** How far back the history goes (ms before the start). */
  historyMs: number;
  /** The failing share of tasks at `t` in the history (read once a minute). */
  failing: (t: number) => number;
  /** The failing share from the start on, until `setFailing`. */
  failingNow: number;
  /**
   * The agents' clock (test-clock.ts), when not the wall clock: each scrape then carries its
   * instant as the sample's timestamp, which Prometheus keeps.
   */
  clock?: () => number;
}

export interface LivePrometheus {
  /** Prometheus's API, for the bot's BUDGET_GATE_PROMETHEUS_URL. */
  url: string;
  /** When the backfilled history ends and the scraped counters take over. */
  liveFrom: number;
  /** From this instant on, this share of tasks fails. */
  setFailing(share: number): void;
  /** An instant query's single value at `at` (epoch ms), or null for no series. */
  value(query: string, at?: number): Promise<number | null>;
  /** The time of the newest sample Prometheus has scraped. */
  newestScrape(): Promise<number | null>;
  prometheus: RunningPrometheus;
  stop(): Promise<void>;
}

/** The two counters over time: a failing share that changes at known instants, integrated exactly. */
class Counters {
  ok = 0;
  error = 0;
  private t: number;
  private readonly perMs: number;
  private readonly changes: Array<{ at: number; share: number }>;
  private readonly history: (t: number) => number;
  private readonly liveFrom: number;

  constructor(
    from: number,
    perMinute: number,
    history: (t: number) => number,
    liveFrom: number,
    failingNow: number,
  ) {
    this.t = from;
    this.history = history;
    this.liveFrom = liveFrom;
    this.perMs = perMinute / 60_000;
    this.changes = [{ at: liveFrom, share: failingNow }];
  }

  private shareAt(t: number): { share: number; until: number } {
    if (t < this.liveFrom) {
      const minuteEnd = (Math.floor(t / 60_000) + 1) * 60_000;
      return {
        share: this.history(Math.floor(t / 60_000) * 60_000),
        until: Math.min(minuteEnd, this.liveFrom),
      };
    }
    let i = this.changes.length - 1;
    while (i > 0 && this.changes[i]!.at > t) i--;
    return { share: this.changes[i]!.share, until: this.changes[i + 1]?.at ?? Number.POSITIVE_INFINITY };
  }

  /** Moves the counters forward to `to` (never back: Prometheus asks in time order). */
  advance(to: number): void {
    while (this.t < to) {
      const { share, until } = this.shareAt(this.t);
      const end = Math.min(to, until);
      const tasks = (end - this.t) * this.perMs;
      this.error += tasks * share;
      this.ok += tasks * (1 - share);
      this.t = end;
    }
  }

  change(at: number, share: number): void {
    this.changes.push({ at: Math.max(at, this.changes.at(-1)!.at), share });
  }
}

const exposition = (c: Counters, at?: number) =>
  [
    '# HELP agent_tasks_total Agent tasks finished, by outcome.',
    '# TYPE agent_tasks_total counter',
    ...(['ok', 'error'] as const).map(
      (outcome) =>
        `agent_tasks_total{job="${SERIES_LABELS.job}",instance="${SERIES_LABELS.instance}",outcome="${outcome}"} ${c[outcome]}${at === undefined ? '' : ` ${Math.round(at)}`}`,
    ),
    '',
  ].join('\n');

export async function startLivePrometheus(traffic: Traffic): Promise<LivePrometheus> {
  const clock = traffic.clock ?? Date.now;
  const liveFrom = clock();
  const from = liveFrom - traffic.historyMs;
  const counters = new Counters(from, traffic.perMinute, traffic.failing, liveFrom, traffic.failingNow);
  // The history, sampled as a scrape every 15 s would have seen it (counters from 0 at its start).
  const samples: Record<'ok' | 'error', [number, number][]> = { ok: [], error: [] };
  const times: number[] = [];
  for (let t = from; t < liveFrom; t += HISTORY_STEP_MS) times.push(t);
  for (const t of [...times, liveFrom]) {
    counters.advance(t);
    samples.ok.push([t, counters.ok]);
    samples.error.push([t, counters.error]);
  }
  const history = toOpenMetrics({
    families: [{ name: 'agent_tasks', type: 'counter', help: 'Agent tasks finished, by outcome.' }],
    series: (['ok', 'error'] as const).map((outcome) => ({
      family: 'agent_tasks',
      name: 'agent_tasks_total',
      labels: { ...SERIES_LABELS, outcome },
      samples: samples[outcome],
    })),
  });
  // The agents' /metrics: the counters as of the moment Prometheus asks.
  const exporter = createServer((req, res) => {
    const now = clock();
    counters.advance(now);
    res.writeHead(req.url === '/metrics' ? 200 : 404, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(req.url === '/metrics' ? exposition(counters, traffic.clock && now) : '');
  });
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  const target = `http://127.0.0.1:${(exporter.address() as AddressInfo).port}`;
  const closeExporter = () =>
    new Promise<void>((r) => {
      exporter.closeAllConnections();
      exporter.close(() => r());
    });
  let prometheus: RunningPrometheus;
  try {
    prometheus = await startPrometheus(history, { scrape: { target, every: '1s' } });
  } catch (e) {
    await closeExporter();
    throw e;
  }
  const value = async (query: string, at = clock()) => {
    const res = await fetch(`${prometheus.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query, time: String(at / 1000) }),
    });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { result: Array<{ value: [number, string] }> };
    };
    if (body.status !== 'success') throw new Error(`Prometheus refused ${query}: ${body.error}`);
    const r = body.data!.result;
    if (r.length > 1) throw new Error(`${query}: ${r.length} series, expected one`);
    return r[0] ? Number(r[0].value[1]) : null;
  };
  const newestScrape = async () => {
    const t = await value(`max(timestamp(agent_tasks_total{job="${SERIES_LABELS.job}"}))`);
    return t === null ? null : t * 1000;
  };
  // Started once Prometheus scraped the agents: the series runs on from the history without a gap
  // longer than Prometheus's start.
  const deadline = Date.now() + FIRST_SCRAPE_MS;
  while (((await newestScrape().catch(() => null)) ?? 0) <= liveFrom) {
    if (Date.now() > deadline) {
      await prometheus.stop();
      await closeExporter();
      throw new Error(
        `Prometheus did not scrape the agents' ${target}/metrics within ${FIRST_SCRAPE_MS / 1000} s`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url: prometheus.url,
    liveFrom,
    prometheus,
    setFailing(share) {
      const now = clock();
      counters.advance(now);
      counters.change(now, share);
    },
    value,
    newestScrape,
    stop: async () => {
      await prometheus.stop();
      await closeExporter();
    },
  };
}
