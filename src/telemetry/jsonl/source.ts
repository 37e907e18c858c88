import type { TelemetrySource } from '../../policy/gate/ports.ts';
import type { TelemetryRequest, TelemetryResult } from '../../policy/gate/sample.ts';
import { TelemetryError } from '../errors.ts';
import { forEachLine, LineError, openByteStream } from './lines.ts';
import { parseTaskLine } from './record.ts';
import { SloTally } from './tally.ts';

export interface JsonlOptions {
  /** A file (plain or gzipped), or `-` for standard input. */
  path: string;
  /** Count malformed lines and go on, instead of failing on the first. */
  skipBadLines?: boolean;
  /** How messages and the decision name the file, when not by its path (the demo's bundled file). */
  label?: string;
}

/** Bad lines quoted in the warnings when they are skipped; the rest are only counted. */
const QUOTED_BAD_LINES = 3;

/** Epoch milliseconds below this are before 1973: far likelier epoch seconds than a 1970s task. */
const EPOCH_SECONDS_BELOW = 1e11;

/** The embedded default: a JSONL file of task records, read in one streaming pass per request. */
export class JsonlSource implements TelemetrySource {
  readonly name: string;
  private readonly opts: JsonlOptions;

  constructor(opts: JsonlOptions) {
    this.opts = opts;
    this.name = `jsonl ${opts.label ?? (opts.path === '-' ? 'standard input' : opts.path)}`;
  }

  async fetch(request: TelemetryRequest): Promise<TelemetryResult> {
    const { path, skipBadLines = false } = this.opts;
    const shown = this.opts.label ?? (path === '-' ? '(standard input)' : path);
    const tallies = request.slos.map((q) => new SloTally(q));
    // Every range any SLO asks for lies within (lo, hi]: a record outside counts nowhere.
    const lo = tallies.length ? Math.min(...tallies.map((t) => t.lo)) : 0;
    const hi = tallies.length ? Math.max(...tallies.map((t) => t.hi)) : 0;
    const skipped: string[] = [];
    let skippedCount = 0;
    let records = 0;
    let outside = 0;
    let future = 0;
    let tiny = 0;
    /** The newest task at or before the evaluation time: how current the file is. */
    let newest: number | null = null;
    let stream: Awaited<ReturnType<typeof openByteStream>>;
    try {
      stream = await openByteStream(path);
    } catch (e) {
      throw unreadable(shown, e);
    }
    let lines: number;
    try {
      lines = await forEachLine(stream, (line, n) => {
        if (line.trim() === '') return;
        const parsed = parseTaskLine(line);
        if ('problem' in parsed) {
          const where = `${shown}:${n}: ${parsed.problem}`;
          if (!skipBadLines) throw new TelemetryError('malformed', this.name, where);
          skippedCount++;
          if (skipped.length < QUOTED_BAD_LINES) skipped.push(where);
          return;
        }
        records++;
        const t = parsed.record.time;
        // A time before 1973 is a misread (epoch seconds), said below; it says nothing of freshness.
        if (t <= request.at && t >= EPOCH_SECONDS_BELOW && (newest === null || t > newest)) newest = t;
        if (t <= lo || t > hi) {
          outside++;
          if (t > request.at) future++;
          else if (t < EPOCH_SECONDS_BELOW) tiny++;
        }
        for (const tally of tallies) tally.add(parsed.record);
      });
    } catch (e) {
      stream.destroy();
      if (e instanceof TelemetryError) throw e;
      if (e instanceof LineError)
        throw new TelemetryError('malformed', this.name, `${shown}:${e.line}: ${e.message}`);
      throw unreadable(shown, e);
    }
    const warnings: string[] = [];
    if (skippedCount > 0) {
      warnings.push(
        `skipped ${skippedCount} malformed line${skippedCount === 1 ? '' : 's'} of ${shown} (--skip-bad-lines): ${skipped.join('; ')}${skippedCount > skipped.length ? '; …' : ''}`,
      );
    }
    const most = outsideWarning(shown, { records, outside, future, tiny }, lo, hi);
    if (most) warnings.push(most);
    const slos: TelemetryResult['slos'] = {};
    for (const t of tallies) slos[t.name] = t.samples();
    return {
      slos,
      freshness: { source: 'jsonl', newest },
      stats: { requests: 0, lines, records, skipped_lines: skippedCount, records_outside_ranges: outside },
      warnings,
    };
  }
}

/** A share of records, never rounded to 0% (a few in a million is not none). */
function share(part: number, whole: number): string {
  const p = (part / whole) * 100;
  if (p === 0 || p === 100) return `${p}%`;
  return p < 1 ? `${p.toPrecision(2)}%` : `${Math.round(p)}%`;
}

/**
 * Records that count nowhere are said out loud when they are most of the file: a file in epoch
 * seconds (read as 1970 milliseconds) or stamped in the future would otherwise show a quiet,
 * healthy window with no events, and ship.
 */
function outsideWarning(
  shown: string,
  c: { records: number; outside: number; future: number; tiny: number },
  lo: number,
  hi: number,
): string | null {
  if (c.records === 0 || c.outside * 2 <= c.records) return null;
  const why: string[] = [];
  if (c.tiny > 0) why.push(`${c.tiny} are before 1973: epoch seconds where epoch milliseconds are expected?`);
  if (c.future > 0)
    why.push(`${c.future} are after the evaluation time: is --at (or the clock, or the time zone) right?`);
  const span = hi > lo ? ` (${new Date(lo).toISOString()} – ${new Date(hi).toISOString()})` : '';
  return `${c.outside} of ${c.records} records of ${shown} (${share(c.outside, c.records)}) fall outside every range the decision reads${span}${why.length ? `: ${why.join('; ')}` : ''}`;
}

function unreadable(path: string, e: unknown): TelemetryError {
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === 'ENOENT'
      ? 'no such file'
      : err.code === 'EACCES'
        ? 'permission denied'
        : err.code === 'EISDIR'
          ? 'a directory, not a file'
          : err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR'
            ? `not a valid gzip file (${err.message})`
            : err.message;
  return new TelemetryError('unreadable', `jsonl ${path}`, `cannot read telemetry ${path}: ${why}`, {
    cause: e,
  });
}
