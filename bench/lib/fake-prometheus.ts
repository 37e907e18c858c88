import { createServer, type Server } from 'node:http';
import { freePort } from '../../test/support/ports.ts';

// A stand-in for Prometheus's query API: answers every tagged sub-query of a batch so a benchmark
// measures budget-gate, not a real TSDB. Error counters read 3.1% over a week or more and 10% over
// shorter spans: 62% of a 95% budget spent, burning at 2x — the SOFT-PAUSE of the demo.
// Histogram buckets read 1% bad. Counts the requests it served.

function sampleValue(expr: string): number {
  const span = Number(/\[(\d+)s\]/.exec(expr)?.[1] ?? 0);
  if (/outcome="error"/.test(expr)) return span >= 7 * 86_400 ? 31 : 100;
  if (/le="/.test(expr)) return 990;
  return 1000;
}

export interface FakePrometheus {
  url: string;
  requests: number;
  close(): Promise<void>;
}

export async function startFakePrometheus(): Promise<FakePrometheus> {
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      state.requests++;
      const query = new URLSearchParams(body).get('query') ?? '';
      const result = [...query.matchAll(/label_replace\((.*?), "bg_key", "(q\d+)", "", ""\)/g)].map((m) => ({
        metric: { bg_key: m[2] },
        value: [Date.now() / 1000, String(sampleValue(m[1]!))],
      }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
