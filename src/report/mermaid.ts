import type { SloReport } from '../policy/decision-schema.ts';

// GitHub renders Mermaid in check-run summaries and job summaries: an xychart of consumed budget
// with the soft- and hard-pause lines, so the reader sees the slope, not just the number.

export function mermaidChart(slo: SloReport, softLine: number, hardLine: number): string {
  const labels = slo.series.map((p) => `"${p.at.slice(5, 10)}"`);
  const values = slo.series.map((p) => Math.round((p.consumed ?? 0) * 1000) / 10);
  const top = Math.max(100, Math.ceil(Math.max(...values, hardLine * 100) / 10) * 10);
  const flat = (v: number) => `[${slo.series.map(() => Math.round(v * 1000) / 10).join(', ')}]`;
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${slo.name}: budget consumed over ${slo.window} (%)"`,
    `  x-axis [${labels.join(', ')}]`,
    `  y-axis "consumed %" 0 --> ${top}`,
    `  line [${values.join(', ')}]`,
    `  line ${flat(softLine)}`,
    `  line ${flat(hardLine)}`,
    '```',
  ].join('\n');
}
