import type { SloReport } from '../policy/decision-schema.ts';

// A terminal chart of budget consumed over the window: one column per series step, eighth-block
// characters for resolution, and the soft-pause line drawn through the empty cells.

const BLOCKS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const ROWS = 8;

export function textChart(slo: SloReport, softLine: number, indent = '  '): string[] {
  const values = slo.series.map((p) => p.consumed ?? 0);
  const top = Math.max(1, Math.ceil(Math.max(...values, softLine) * 4) / 4);
  const rowSpan = top / ROWS;
  // The row whose top edge is the soft-pause line (or the nearest one above it).
  const softRow = Math.max(0, Math.ceil(softLine / rowSpan - 1e-9) - 1);
  const lines: string[] = [];
  for (let row = ROWS - 1; row >= 0; row--) {
    const lo = row * rowSpan;
    let cells = '';
    for (const v of values) {
      const fill = Math.max(0, Math.min(1, (v - lo) / rowSpan));
      const ch = BLOCKS[Math.round(fill * 8)]!;
      cells += ch === ' ' && row === softRow ? '┄' : ch;
    }
    const labelled = row === ROWS - 1 || row === softRow || row === 0;
    const label = labelled ? `${Math.round((lo + rowSpan) * 100)}%` : '';
    lines.push(`${indent}${label.padStart(5)} ┤${cells}${row === softRow ? '  ┄ soft-pause line' : ''}`);
  }
  const first = slo.series[0]?.at.slice(5, 10) ?? '';
  const last = slo.series.at(-1)?.at.slice(5, 10) ?? '';
  const gap = Math.max(1, values.length - first.length - last.length);
  lines.push(`${indent}${' '.repeat(5)} └${'─'.repeat(values.length)}`);
  lines.push(`${indent}${' '.repeat(7)}${first}${' '.repeat(gap)}${last}`);
  return lines;
}
