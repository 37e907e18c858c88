import { countSample, RANGE_WINDOW, ratioSample, type Sample } from '../../policy/gate/sample.ts';
import { TelemetryError } from '../errors.ts';
import type { Planned } from './batch.ts';

// Sub-query answers → one Sample per SLO and range. The window must have data (no series there
// means a wrong metric, label or rule, not a quiet week); shorter ranges may legitimately be empty.

/** What one sub-query returned: its value, and the text Prometheus wrote (NaN, +Inf) for messages. */
export interface Answer {
  value: number;
  text: string;
}

export function answerOf(text: string): Answer {
  // Prometheus writes infinities as +Inf/-Inf, which Number() does not read.
  const n =
    text === '+Inf' ? Number.POSITIVE_INFINITY : text === '-Inf' ? Number.NEGATIVE_INFINITY : Number(text);
  return { value: n, text };
}

/** Extrapolation noise tolerated in absolute events, and as a share of the total. */
const SLACK = 1;
const OVERCOUNT = 0.05;

export function samplesOf(
  slo: Planned['slos'][number],
  subqueries: Planned['subqueries'],
  answers: Map<string, Answer>,
  source: string,
): Record<string, Sample> {
  const ranges: Record<string, Sample> = {};
  for (const r of slo.ranges) {
    const describe = (part: string) => `${slo.name} ${r.key}: ${subqueries.get(r.ids[part]!)}`;
    const isWindow = r.key === RANGE_WINDOW;
    const noData = (part: string, hint: string) =>
      new TelemetryError('no-data', source, `no series for ${describe(part)}: ${hint}`);
    /** The value, undefined when no series came back; a NaN or infinity is an error. */
    const get = (part: string, why = ''): number | undefined => {
      const id = r.ids[part];
      const a = id === undefined ? undefined : answers.get(id);
      if (a === undefined) return undefined;
      if (!Number.isFinite(a.value))
        throw new TelemetryError('nan', source, `${a.text} for ${describe(part)}${why}`);
      return a.value;
    };

    if (r.empty) {
      ranges[r.key] = r.query.kind === 'ratio' ? ratioSample(null) : countSample(0, 0);
      continue;
    }
    if (r.query.kind === 'ratio') {
      const id = r.ids.ratio!;
      const a = answers.get(id);
      if (isWindow) {
        if (a === undefined) throw noData('ratio', r.query.hint);
        get('ratio', ': no traffic in the window?');
      }
      if (a !== undefined && (a.value < 0 || a.value > 1 + 1e-9))
        throw new TelemetryError(
          'malformed',
          source,
          `${a.text} for ${describe('ratio')}: an error ratio lies between 0 and 1`,
        );
      // A recorded ratio is NaN over a span with no traffic: nothing happened, as in a JSONL gap.
      ranges[r.key] = ratioSample(a === undefined || !Number.isFinite(a.value) ? null : a.value);
      continue;
    }
    const impossible = (part: string, value: number, why: string) =>
      new TelemetryError('malformed', source, `${value} for ${describe(part)}: ${why}`);
    const total = get('total');
    if (total === undefined && isWindow) throw noData('total', 'check the metric name and labels');
    if (total !== undefined && total < -SLACK) throw impossible('total', total, 'a count cannot be negative');
    const events = Math.max(0, total ?? 0);
    let bad: number;
    if (r.query.good !== null) {
      const good = get('good');
      if (good === undefined && events > 0 && isWindow)
        throw noData('good', 'for a histogram, is there a bucket with that exact `le`?');
      if (good !== undefined && good < -SLACK) throw impossible('good', good, 'a count cannot be negative');
      if (good !== undefined && good > events * (1 + OVERCOUNT) + SLACK)
        throw impossible(
          'good',
          good,
          `more good events than the ${events} in total: do the two expressions count the same tasks?`,
        );
      bad = events - (good ?? events);
    } else {
      // No series for the bad expression is normal: an error counter appears with the first error.
      bad = get('bad') ?? 0;
      if (bad < -SLACK) throw impossible('bad', bad, 'a count cannot be negative');
      if (bad > events * (1 + OVERCOUNT) + SLACK)
        throw impossible(
          'bad',
          bad,
          `more bad events than the ${events} in total: do the two expressions count the same tasks?`,
        );
    }
    // increase() extrapolates bad and total separately, so they may disagree by a little (within
    // SLACK and OVERCOUNT); keep 0 <= bad <= events. More than that is a wrong query, not noise.
    ranges[r.key] = countSample(events, Math.min(events, Math.max(0, bad)));
  }
  return ranges;
}
