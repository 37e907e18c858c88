import type { TelemetryRequest, TelemetryResult, TelemetrySource } from '../../policy/sample.ts';
import { TelemetryError } from '../errors.ts';
import { forEachLine, openTextStream } from './lines.ts';
import { parseTaskLine } from './record.ts';
import { SloTally } from './tally.ts';

export interface JsonlOptions {
  path: string;
  /** Count malformed lines and go on, instead of failing on the first. */
  skipBadLines?: boolean;
}

/** Bad lines quoted in the warnings when they are skipped; the rest are only counted. */
const QUOTED_BAD_LINES = 3;

/** The embedded default: a JSONL file of task records, read in one streaming pass per request. */
export class JsonlSource implements TelemetrySource {
  readonly name: string;
  private readonly opts: JsonlOptions;

  constructor(opts: JsonlOptions) {
    this.opts = opts;
    this.name = `jsonl ${opts.path}`;
  }

  async fetch(request: TelemetryRequest): Promise<TelemetryResult> {
    const { path, skipBadLines = false } = this.opts;
    const tallies = request.slos.map((q) => new SloTally(q));
    const skipped: string[] = [];
    let skippedCount = 0;
    let records = 0;
    let stream: Awaited<ReturnType<typeof openTextStream>>;
    try {
      stream = await openTextStream(path);
    } catch (e) {
      throw unreadable(path, e);
    }
    let lines: number;
    try {
      lines = await forEachLine(stream, (line, n) => {
        if (line.trim() === '') return;
        const parsed = parseTaskLine(line);
        if ('problem' in parsed) {
          const where = `${path}:${n}: ${parsed.problem}`;
          if (!skipBadLines) throw new TelemetryError('malformed', this.name, where);
          skippedCount++;
          if (skipped.length < QUOTED_BAD_LINES) skipped.push(where);
          return;
        }
        records++;
        for (const t of tallies) t.add(parsed.record);
      });
    } catch (e) {
      stream.destroy();
      if (e instanceof TelemetryError) throw e;
      throw unreadable(path, e);
    }
    const warnings: string[] = [];
    if (skippedCount > 0) {
      warnings.push(
        `skipped ${skippedCount} malformed line${skippedCount === 1 ? '' : 's'} of ${path} (--skip-bad-lines): ${skipped.join('; ')}${skippedCount > skipped.length ? '; …' : ''}`,
      );
    }
    const slos: TelemetryResult['slos'] = {};
    for (const t of tallies) slos[t.name] = t.samples();
    return { slos, stats: { requests: 0, lines, records, skipped_lines: skippedCount }, warnings };
  }
}

function unreadable(path: string, e: unknown): TelemetryError {
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === 'ENOENT'
      ? 'no such file'
      : err.code === 'EACCES'
        ? 'permission denied'
        : err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR'
          ? `not a valid gzip file (${err.message})`
          : err.message;
  return new TelemetryError('unreadable', `jsonl ${path}`, `cannot read telemetry ${path}: ${why}`, {
    cause: e,
  });
}
