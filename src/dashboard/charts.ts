import * as echarts from 'echarts';
import { LRUCache } from 'lru-cache';
import type { SloReport } from '../policy/gate/decision-schema.ts';
import { CHART_COLOURS } from '../report/mermaid.ts';
import type { AlertWindow, EvidenceMinute, SloTrend } from './ports.ts';

// Real plots, drawn on the server by Apache ECharts as SVG (`ssr: true`): the page needs no
// chart script, a screenshot or a text browser shows the same figure, and the drawing is the
// library's, not ours. Only numbers and the fixed series names below go into a chart; every name
// that comes from a repository is written by the page around it (escaped), never inside the SVG.
//
// Colours hold 3:1 contrast on the light (#ffffff) and dark (#0d1117) page backgrounds alike, so
// one drawing serves both themes; the grid's hairlines are restyled for dark by the stylesheet.

export const COLOURS = {
  consumed: CHART_COLOURS.consumed.hex,
  soft: CHART_COLOURS.soft.hex,
  hard: CHART_COLOURS.hard.hex,
  long: '#8957e5',
  short: '#1f883d',
  alertLine: '#db6d28',
  bounds: '#8957e5',
  line: CHART_COLOURS.hard.hex,
  after: CHART_COLOURS.consumed.hex,
  before: '#6e7781',
  text: '#6e7781',
} as const;
/** The grid's hairline colour, which the dark stylesheet replaces (assets.ts). */
export const GRID = '#d0d7de';

const WIDTH = 640;
const HEIGHT = 260;

const base = {
  animation: false,
  useUTC: true,
  backgroundColor: 'transparent',
  textStyle: { color: COLOURS.text, fontFamily: 'system-ui, sans-serif' },
  grid: { left: 56, right: 24, top: 40, bottom: 40 },
  legend: { top: 4, textStyle: { color: COLOURS.text }, itemWidth: 18, itemHeight: 8 },
};
const axis = {
  axisLine: { lineStyle: { color: COLOURS.text } },
  axisLabel: { color: COLOURS.text },
  splitLine: { lineStyle: { color: GRID } },
};

// Drawing is tens of milliseconds; the same figures draw the same SVG, so a warm page reuses it.
const drawn = new LRUCache<string, string>({ max: 4000 });

function draw(option: Record<string, unknown>, label: string): string {
  const key = `${label}\u0000${JSON.stringify(option)}`;
  const hit = drawn.get(key);
  if (hit !== undefined) return hit;
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height: HEIGHT });
  try {
    chart.setOption(option);
    // role/aria-label come from the caller's fixed wording; the SVG carries no outside text.
    // The <style> the renderer adds only styles hover, which a drawing without script never has
    // (and a strict CSP would refuse it).
    const svg = chart
      .renderToSVGString()
      .replace(/<style[^>]*>[\s\S]*?<\/style>/g, '')
      .replace('<svg ', `<svg role="img" aria-label="${label.replace(/[^\w %./:,-]/g, '')}" `);
    drawn.set(key, svg);
    return svg;
  } finally {
    chart.dispose();
  }
}

/** The soft and hard pause levels as dashed lines across the chart, from `first` to `last`. */
function pauseLines(first: number, last: number, soft: number, hard: number) {
  const flat = (v: number, name: string, colour: string) => ({
    type: 'line',
    name,
    data: [
      [first, v],
      [last, v],
    ],
    symbol: 'none',
    lineStyle: { color: colour, width: 2, type: 'dashed' },
    itemStyle: { color: colour },
  });
  return [flat(soft, 'soft pause', COLOURS.soft), flat(hard, 'hard pause', COLOURS.hard)];
}

const pct = (v: number) => `${Math.round(v * 1000) / 10}%`;

/** Budget consumed over the SLO's window, with the soft- and hard-pause lines. Null without a series. */
export function budgetChart(slo: SloReport, soft: number, hard: number): string | null {
  const points = slo.series.filter((p) => p.consumed !== null);
  if (points.length === 0) return null;
  const first = Date.parse(slo.series[0]!.at);
  const last = Date.parse(slo.series.at(-1)!.at);
  const top = Math.max(hard * 1.1, ...points.map((p) => p.consumed! * 1.05));
  return draw(
    {
      ...base,
      color: [COLOURS.consumed, COLOURS.soft, COLOURS.hard],
      xAxis: { type: 'time', min: first, max: last, ...axis, splitLine: { show: false } },
      yAxis: {
        type: 'value',
        min: 0,
        max: Math.ceil(top * 20) / 20,
        ...axis,
        axisLabel: { color: COLOURS.text, formatter: (v: number) => pct(v) },
      },
      series: [
        {
          type: 'line',
          name: 'budget consumed',
          // A gap in the telemetry stays a gap: the line does not bridge missing steps.
          data: slo.series.map((p) => [Date.parse(p.at), p.consumed]),
          connectNulls: false,
          symbol: 'circle',
          symbolSize: 4,
          lineStyle: { color: COLOURS.consumed, width: 2.5 },
          itemStyle: { color: COLOURS.consumed },
        },
        ...pauseLines(first, last, soft, hard),
      ],
    },
    'budget consumed over the window, with the pause lines',
  );
}

/** Burn in each alert's long and short window, each against the burn rate that fires it. */
export function burnChart(slo: SloReport, alerts: AlertWindow[]): string | null {
  if (alerts.length === 0) return null;
  const categories = alerts.map((a) => `${a.long}/${a.short}`);
  const value = (k: string) => slo.burn_rates[k] ?? null;
  const top = Math.max(1, ...alerts.flatMap((a) => [a.burn_rate, value(a.long) ?? 0, value(a.short) ?? 0]));
  return draw(
    {
      ...base,
      xAxis: { type: 'category', data: categories, ...axis, splitLine: { show: false } },
      yAxis: {
        type: 'value',
        min: 0,
        max: Math.ceil(top * 1.1),
        ...axis,
        axisLabel: { color: COLOURS.text, formatter: (v: number) => `${v}x` },
      },
      series: [
        {
          type: 'bar',
          name: 'long window',
          data: alerts.map((a) => value(a.long)),
          itemStyle: { color: COLOURS.long },
        },
        {
          type: 'bar',
          name: 'short window',
          data: alerts.map((a) => value(a.short)),
          itemStyle: { color: COLOURS.short },
        },
        {
          type: 'scatter',
          name: 'fires at',
          data: alerts.map((a) => a.burn_rate),
          symbol: 'rect',
          symbolSize: [56, 3],
          itemStyle: { color: COLOURS.alertLine },
          z: 5,
        },
      ],
    },
    'burn rate in each alert window against the rate that fires it',
  );
}

/**
 * An SLO as the stored evaluations found it over time: budget consumed over its window (left axis,
 * with the pause lines) and the burn over its pace lookback (right axis). Null under two points.
 */
export function trendChart(t: SloTrend, soft: number, hard: number): string | null {
  if (t.points.length < 2) return null;
  const at = t.points.map((p) => Date.parse(p.at));
  const first = at[0]!;
  const last = at.at(-1)!;
  const top = Math.max(hard * 1.1, ...t.points.map((p) => (p.consumed ?? 0) * 1.05));
  const burnTop = Math.max(1, ...t.points.map((p) => (p.burn ?? 0) * 1.1));
  return draw(
    {
      ...base,
      grid: { ...base.grid, right: 56 },
      xAxis: { type: 'time', min: first, max: last, ...axis, splitLine: { show: false } },
      yAxis: [
        {
          type: 'value',
          min: 0,
          max: Math.ceil(top * 20) / 20,
          ...axis,
          axisLabel: { color: COLOURS.text, formatter: (v: number) => pct(v) },
        },
        {
          type: 'value',
          min: 0,
          max: Math.ceil(burnTop),
          ...axis,
          splitLine: { show: false },
          axisLabel: { color: COLOURS.text, formatter: (v: number) => `${v}x` },
        },
      ],
      series: [
        {
          type: 'line',
          name: 'budget consumed',
          data: t.points.map((p, i) => [at[i], p.consumed]),
          connectNulls: false,
          symbol: 'none',
          lineStyle: { color: COLOURS.consumed, width: 2.5 },
          itemStyle: { color: COLOURS.consumed },
        },
        {
          type: 'line',
          name: `burn over ${t.lookback.replace(/[^\w]/g, '')}`,
          yAxisIndex: 1,
          data: t.points.map((p, i) => [at[i], p.burn]),
          connectNulls: false,
          symbol: 'none',
          lineStyle: { color: COLOURS.long, width: 2 },
          itemStyle: { color: COLOURS.long },
        },
        ...pauseLines(first, last, soft, hard),
      ],
    },
    'budget consumed and burn as each stored evaluation found them',
  );
}

/** A watch minute by minute: the bounds on the deploy's attributable burn against the line. */
export function evidenceChart(minutes: EvidenceMinute[]): string | null {
  if (minutes.length === 0) return null;
  const at = (m: EvidenceMinute) => Date.parse(m.at);
  const series = (
    name: string,
    colour: string,
    pick: (m: EvidenceMinute) => number | null,
    dashed = false,
  ) => ({
    type: 'line',
    name,
    data: minutes.map((m) => [at(m), pick(m)]),
    connectNulls: false,
    symbol: 'none',
    lineStyle: { color: colour, width: 2, ...(dashed ? { type: 'dashed' } : {}) },
    itemStyle: { color: colour },
  });
  return draw(
    {
      ...base,
      xAxis: { type: 'time', ...axis, splitLine: { show: false } },
      yAxis: {
        type: 'value',
        min: 0,
        ...axis,
        axisLabel: { color: COLOURS.text, formatter: (v: number) => `${v}x` },
      },
      series: [
        series('burn, lower bound', COLOURS.bounds, (m) => m.burn_low),
        series('burn, upper bound', COLOURS.bounds, (m) => m.burn_high, true),
        series('revert line', COLOURS.line, (m) => m.line_burn, true),
      ],
    },
    'attributable burn minute by minute against the revert line',
  );
}
