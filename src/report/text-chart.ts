import type { SloReport } from '../policy/gate/decision-schema.ts';
import { burnSeries } from './burn-series.ts';

// A terminal chart of budget consumed over the window: one column per point of the burn series
// (the window's start, then each step), eighth-block characters for resolution, the pause lines
// drawn through the empty cells, and steps without data marked under the axis.

const BLOCKS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const ROWS = 8;
const LINES = { soft: '┄', hard: '━' } as const;

export interface TextChartOptions {
  indent?: string;
  /** Also draw the hard-pause line. */
  hardLine?: number;
}

/** The top of the chart: 100%, 200%, or the next whole 100%, so the pause lines fall on row edges. */
function chartTop(highest: number): number {
  if (highest <= 1) return 1;
  if (highest <= 2) return 2;
  return Math.ceil(highest);
}

export function textChart(slo: SloReport, softLine: number, opts: TextChartOptions = {}): string[] {
  const indent = opts.indent ?? '  ';
  const series = burnSeries(slo);
  if (!series) return [`${indent}(no data to chart)`];
  const values = series.points.map((p) => p.consumed);
  const hardLine = opts.hardLine;
  const top = chartTop(Math.max(...values, softLine, hardLine ?? 0));
  const rowSpan = top / ROWS;
  // The row whose top edge is the line (or the nearest one above it).
  const rowOf = (line: number) => Math.min(ROWS - 1, Math.max(0, Math.ceil(line / rowSpan - 1e-9) - 1));
  const marks = new Map<number, { ch: string; note: string }>();
  if (hardLine !== undefined)
    marks.set(rowOf(hardLine), { ch: LINES.hard, note: `${LINES.hard} hard-pause line` });
  marks.set(rowOf(softLine), { ch: LINES.soft, note: `${LINES.soft} soft-pause line` });

  const lines: string[] = [];
  for (let row = ROWS - 1; row >= 0; row--) {
    const lo = row * rowSpan;
    const mark = marks.get(row);
    let cells = '';
    for (const v of values) {
      const fill = Math.max(0, Math.min(1, (v - lo) / rowSpan));
      const ch = BLOCKS[Math.round(fill * 8)]!;
      cells += ch === ' ' && mark ? mark.ch : ch;
    }
    const label = row === ROWS - 1 || mark ? `${Math.round((lo + rowSpan) * 100)}%` : '';
    lines.push(`${indent}${label.padStart(5)} ┤${cells}${mark ? `  ${mark.note}` : ''}`);
  }
  const axis = series.points.map((p) => (p.gap ? '?' : '─')).join('');
  lines.push(`${indent}${'0%'.padStart(5)} └${axis}${series.gaps > 0 ? '  ? no data: last value held' : ''}`);
  const { startLabel, endLabel } = series.axis;
  const gap = Math.max(1, values.length - startLabel.length - endLabel.length);
  lines.push(`${indent}${' '.repeat(7)}${startLabel}${' '.repeat(gap)}${endLabel}`);
  return lines;
}
