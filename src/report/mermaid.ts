import type { SloReport } from '../policy/gate/decision-schema.ts';
import { type BurnSeries, burnSeries } from './burn-series.ts';

// GitHub renders Mermaid in check-run summaries and job summaries: an xychart of consumed budget
// with the soft- and hard-pause lines, so the reader sees the slope, not just the number.

/**
 * Line colours, readable (contrast ≥ 3:1) on GitHub's light and dark backgrounds alike; Mermaid's
 * own palettes make the consumed line pale lavender in the light theme and the soft-pause line
 * green ("safe") in the dark one. The caption names them, since the chart has no legend.
 */
export const CHART_COLOURS = {
  soft: { hex: '#bf8700', name: 'amber', swatch: '🟧' },
  hard: { hex: '#e5534b', name: 'red', swatch: '🟥' },
  consumed: { hex: '#2f81f7', name: 'blue', swatch: '🟦' },
} as const;

/** Mermaid's default chart is 700 px wide and titles are 20 px: longer ones are cut off. */
const TITLE_MAX = 48;

/** A string Mermaid's xychart grammar takes between double quotes: no quote, no line break. */
function mermaidString(text: string, max = Number.POSITIVE_INFINITY): string {
  const clean = text
    .replace(/"/g, "'")
    .replace(/\p{Cc}+/gu, ' ')
    .trim();
  return clean.length <= max ? clean : `${clean.slice(0, max - 1).trimEnd()}…`;
}

export function chartTitle(slo: SloReport): string {
  const suffix = ` · ${mermaidString(slo.window, 8)} budget consumed`;
  return `${mermaidString(slo.name, TITLE_MAX - suffix.length)}${suffix}`;
}

/**
 * An axis bound exactly as computed (rounding would undo exactStep), as a plain decimal: the
 * bounds are sums of a dyadic step, far from the exponent notation Mermaid would not parse.
 */
const num = (x: number): string => (Object.is(x, -0) ? '0' : String(x));
/** A share as a percentage to a tenth: the chart's y unit. */
const percent = (x: number): string => num(Math.round(x * 1000) / 10);

/** The y axis' top: room above the highest line, in tens. */
function yTop(series: BurnSeries, hardLine: number): number {
  const highest = Math.max(hardLine, ...series.points.map((p) => p.consumed));
  return Math.max(10, Math.ceil((highest * 100 * 1.1) / 10) * 10);
}

/** The ```mermaid block for one SLO's burn, or null when it has no series. */
export function mermaidChart(slo: SloReport, softLine: number, hardLine: number): string | null {
  const series = burnSeries(slo);
  if (!series) return null;
  const { axis, points } = series;
  const palette = [CHART_COLOURS.soft, CHART_COLOURS.hard, CHART_COLOURS.consumed].map((c) => c.hex);
  const init = { themeVariables: { xyChart: { plotColorPalette: palette.join(', ') } } };
  return [
    '```mermaid',
    `%%{init: ${JSON.stringify(init)}}%%`,
    'xychart-beta',
    `  title "${chartTitle(slo)}"`,
    `  x-axis "${mermaidString(axis.title)}" ${num(axis.min)} --> ${num(axis.max)}`,
    `  y-axis "consumed %" 0 --> ${yTop(series, hardLine)}`,
    // Pause lines first and the consumed line last, so it is drawn on top where they cross.
    `  line [${percent(softLine)}, ${percent(softLine)}]`,
    `  line [${percent(hardLine)}, ${percent(hardLine)}]`,
    `  line [${points.map((p) => percent(p.consumed)).join(', ')}]`,
    '```',
  ].join('\n');
}

/** The chart's legend, which Mermaid's xychart does not draw: each line's colour and meaning. */
export function chartLegend(softLine: number, hardLine: number): string {
  const { consumed, soft, hard } = CHART_COLOURS;
  return [
    `${consumed.swatch} ${consumed.name}: budget consumed`,
    `${soft.swatch} ${soft.name}: soft-pause line (${percent(softLine)}%)`,
    `${hard.swatch} ${hard.name}: hard-pause line (${percent(hardLine)}%)`,
  ].join(' · ');
}

/** "3 of 24 steps had no data …", or null when every step had data. */
export function gapNote(slo: SloReport): string | null {
  const series = burnSeries(slo);
  if (!series || series.gaps === 0) return null;
  const { gaps, steps } = series;
  return `${gaps} of ${steps} step${steps === 1 ? '' : 's'} had no data: the line holds the last known value there`;
}
