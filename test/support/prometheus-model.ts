import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Series, SeriesSet } from './series.ts';

// What Prometheus answers to the queries budget-gate sends, computed here from the same samples a
// real server holds: `increase()` is a line-for-line port of Prometheus's extrapolatedRate (the
// float-counter path of promql/functions.go, unchanged between 2.x and 3.x), and the one thing
// 3.0 changed — range selectors became left-open, (from, to] instead of [from, to] — is the
// `ranges` switch. Checked against the real Prometheus 2 binary on the same samples (left-closed)
// before it stands in for Prometheus 3 (left-open), of which no binary can be had here.

export type RangeMode = 'left-closed' | 'left-open';

/** increase() of one counter over the range ending at `to`; null when fewer than two samples. */
function increase(samples: [number, number][], from: number, to: number, mode: RangeMode): number | null {
  const s = samples.filter(([t]) => (mode === 'left-closed' ? t >= from : t > from) && t <= to);
  if (s.length < 2) return null;
  const n = s.length - 1;
  const [firstT, firstV] = s[0]!;
  const [lastT, lastV] = s[n]!;
  let result = lastV - firstV;
  for (let i = 1; i <= n; i++) if (s[i]![1] < s[i - 1]![1]) result += s[i - 1]![1];
  let durationToStart = (firstT - from) / 1000;
  const durationToEnd0 = (to - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const average = sampledInterval / n;
  const threshold = average * 1.1;
  if (durationToStart >= threshold) durationToStart = average / 2;
  let durationToZero = durationToStart;
  if (result > 0 && firstV >= 0) durationToZero = sampledInterval * (firstV / result);
  if (durationToZero < durationToStart) durationToStart = durationToZero;
  const durationToEnd = durationToEnd0 >= threshold ? average / 2 : durationToEnd0;
  const factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  return result * factor;
}

interface Matcher {
  name: string;
  op: '=' | '=~';
  value: string;
}

function matchers(text: string): Matcher[] {
  return [...text.matchAll(/(\w+)\s*(=~|=)\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => ({
    name: m[1]!,
    op: m[2] as '=' | '=~',
    value: m[3]!.replace(/\\(.)/g, '$1'),
  }));
}

const matches = (s: Series, name: string, ms: Matcher[]) =>
  s.name === name &&
  ms.every((m) =>
    m.op === '='
      ? (s.labels[m.name] ?? '') === m.value
      : new RegExp(`^(?:${m.value})$`).test(s.labels[m.name] ?? ''),
  );

/**
 * The sub-queries budget-gate batches, `label_replace(sum(increase(NAME{…}[Ns] @ T)), "bg_key",
 * "qN", "", "")` joined with `or`, answered as Prometheus would. Anything else is refused, so a
 * test cannot pass on a query this model does not understand.
 */
function answerBatch(set: SeriesSet, query: string, mode: RangeMode): { status: number; body: unknown } {
  const part =
    /^label_replace\(sum\(increase\(([A-Za-z_:][\w:]*)\{([^}]*)\}\[(\d+)s\] @ ([\d.]+)\)\), "bg_key", "(q\d+)", "", ""\)$/;
  const result: { metric: Record<string, string>; value: [number, string] }[] = [];
  for (const sub of query.split(' or\n')) {
    const m = part.exec(sub.trim());
    if (!m)
      return {
        status: 400,
        body: { status: 'error', errorType: 'bad_data', error: `model cannot read: ${sub}` },
      };
    const [, name, labelText, span, at, id] = m;
    const to = Math.round(Number(at) * 1000);
    const from = to - Number(span) * 1000;
    const values = set.series
      .filter((s) => matches(s, name!, matchers(labelText!)))
      .map((s) => increase(s.samples, from, to, mode))
      .filter((v): v is number => v !== null);
    if (values.length > 0)
      result.push({ metric: { bg_key: id! }, value: [to / 1000, String(values.reduce((a, b) => a + b, 0))] });
  }
  return { status: 200, body: { status: 'success', data: { resultType: 'vector', result } } };
}

/** A request handler for fake-server.ts's serve(). */
export function modelHandler(set: SeriesSet, mode: RangeMode, body: () => string) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    const a = answerBatch(set, new URLSearchParams(body()).get('query') ?? '', mode);
    res.writeHead(a.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(a.body));
  };
}
