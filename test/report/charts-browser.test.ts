/// <reference lib="dom" />
import { resolve } from 'node:path';
import type { Page } from 'puppeteer-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { burnSeries } from '../../src/report/burn-series.ts';
import { projectionLine } from '../../src/report/format.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { CHART_COLOURS, chartTitle, mermaidChart } from '../../src/report/mermaid.ts';
import { MERMAIDS, type MermaidVersion, useBrowser } from '../support/browser.ts';
import {
  contrast,
  type DrawnChart,
  drawMermaid,
  matchesReference,
  mermaidSource,
  type Theme,
} from '../support/browser-mermaid.ts';
import { showSummary } from '../support/browser-summary.ts';
import { CASES, type ChartCase, caseDecision } from './chart-cases.ts';

// Every burn chart the report can produce, drawn by the real Mermaid (current and 11.3) in
// Debian's headless Chromium, in GitHub's light and dark themes; then a whole job summary through
// a CommonMark renderer, checked for lost characters, and photographed for the README.

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = resolve(ROOT, 'test/fixtures/charts');
/** GitHub's page backgrounds, light and dark: the lines must read on both. */
const PAGE_BACKGROUND: Record<Theme, string> = { default: '#ffffff', dark: '#0d1117' };
const WORKSPACE = '/home/runner/work/agents/agents';
/** Reference images worth a look when they change: one per kind of axis, theme and version. */
const REFERENCES: { case: string; theme: Theme; version: MermaidVersion }[] = [
  { case: 'rolling-30d', theme: 'default', version: 'current' },
  { case: 'week-first-hour', theme: 'dark', version: 'current' },
  { case: 'gaps', theme: 'default', version: '11.3' },
  { case: 'hard-pause', theme: 'dark', version: '11.3' },
];

// Mermaid and the pages are served from loopback; nothing may be fetched from elsewhere.
const browser = useBrowser();

function expectChart(c: ChartCase, drawn: DrawnChart, theme: Theme) {
  const d = caseDecision(c);
  const slo = d.slos[0]!;
  const series = burnSeries(slo)!;
  const { soft_pause: soft, hard_pause: hard } = d.thresholds;

  // Three lines: the two pause lines end to end, and consumed with every point of the series.
  expect(drawn.lines.map((l) => l.points.length)).toEqual([2, 2, series.points.length]);
  expect(series.points.length).toBe((c.steps ?? 24) + 1);
  const [softLine, hardLine, consumed] = drawn.lines as [
    (typeof drawn.lines)[0],
    (typeof drawn.lines)[0],
    (typeof drawn.lines)[0],
  ];
  expect([softLine.stroke, hardLine.stroke, consumed.stroke]).toEqual([
    CHART_COLOURS.soft.hex,
    CHART_COLOURS.hard.hex,
    CHART_COLOURS.consumed.hex,
  ]);
  for (const line of drawn.lines) {
    expect(contrast(line.stroke, PAGE_BACKGROUND[theme])).toBeGreaterThanOrEqual(3);
    if (drawn.background?.startsWith('#') && drawn.background.length === 7)
      expect(contrast(line.stroke, drawn.background)).toBeGreaterThanOrEqual(3);
  }

  // The true shape: points evenly spaced from the window's start (left edge) to now (right edge),
  // each at its consumed value on the scale the two pause lines fix.
  const [x0, x1] = [softLine.points[0]!.x, softLine.points[1]!.x];
  const ys = softLine.points[0]!.y;
  const yh = hardLine.points[0]!.y;
  const yOf = (v: number) => ys + ((v - soft) * (yh - ys)) / (hard - soft);
  const n = consumed.points.length;
  consumed.points.forEach((p, i) => {
    expect(p.x).toBeCloseTo(x0 + ((x1 - x0) * i) / (n - 1), 0);
    expect(Math.abs(p.y - yOf(series.points[i]!.consumed))).toBeLessThan(1);
  });
  // A gap holds the last value: the line is flat there, never dropping to zero.
  for (const g of c.gaps ?? []) expect(consumed.points[g + 1]!.y).toBeCloseTo(consumed.points[g]!.y, 1);

  // The title is the shortened, quote-free one, and fits inside the chart.
  expect(drawn.title).toBe(chartTitle(slo));
  expect(drawn.titleBox.left).toBeGreaterThanOrEqual(drawn.chartBox.left);
  expect(drawn.titleBox.right).toBeLessThanOrEqual(drawn.chartBox.right);
}

for (const version of Object.keys(MERMAIDS) as MermaidVersion[]) {
  describe(`burn charts in Mermaid ${version}, headless Chromium`, () => {
    let page: Page;
    beforeAll(async () => {
      page = await browser.page(version);
    });

    for (const c of CASES) {
      it(`${c.name}: parses, draws every point in the true shape, in readable colours in both themes`, async () => {
        const d = caseDecision(c);
        const block = mermaidChart(d.slos[0]!, d.thresholds.soft_pause, d.thresholds.hard_pause)!;
        for (const theme of ['default', 'dark'] as const) {
          const drawn = await drawMermaid(page, mermaidSource(block), theme);
          expectChart(c, drawn, theme);
          const ref = REFERENCES.find((r) => r.case === c.name && r.theme === theme && r.version === version);
          if (ref) {
            const png = Buffer.from(await (await page.$('svg'))!.screenshot({ type: 'png' }));
            const result = await matchesReference(page, png, `${FIXTURES}/${c.name}-${theme}-${version}.png`);
            expect(result.ok, result.ok ? '' : result.message).toBe(true);
          }
        }
      });
    }
  });
}

describe('the whole job summary, through a CommonMark renderer and Mermaid', () => {
  let page: Page;
  beforeAll(async () => {
    page = await browser.page('current');
    await page.setViewport({ width: 908, height: 600, deviceScaleFactor: 1 });
  });

  for (const name of ['soft-pause', 'hard-pause']) {
    it(`${name}: globs and paths keep every character; the footer names the file inside the workspace`, async () => {
      const d = caseDecision(CASES.find((c) => c.name === name)!);
      const markdown = renderMarkdown(d, { workspace: WORKSPACE });
      await showSummary(page, markdown);
      const seen = await page.evaluate(() => ({
        text: document.body.textContent ?? '',
        codes: [...document.querySelectorAll('code')].map((c) => c.textContent ?? ''),
        strong: [...document.querySelectorAll('strong')].map((c) => c.textContent ?? ''),
        em: [...document.querySelectorAll('em')].map((c) => c.textContent ?? ''),
        charts: document.querySelectorAll('.mermaid svg g.plot > g[class^="line-plot-"]').length,
      }));
      const paths = [...d.risk_files.map((f) => f.path), 'prompts/**', 'models/**', 'config/model*.yml'];
      for (const p of paths) expect(seen.codes).toContain(p);
      expect(seen.text).toContain('(risk.rules[0]: prompts/**, models/**, config/model*.yml)');
      expect(seen.codes).toContain('telemetry/tasks.jsonl');
      expect(seen.text).not.toContain(WORKSPACE);
      // Bold is the section headings and severities only; italics the note under the chart: no glob
      // became either.
      const headings = ['Why', 'What you can do', 'Alerts firing', 'sev1', 'sev2', 'sev3'];
      expect(seen.strong.filter((s) => !headings.includes(s))).toEqual([]);
      expect(seen.strong.slice(0, 2)).toEqual(['Why', 'What you can do']);
      expect(seen.em).toHaveLength(1);
      expect(seen.em[0]).toBe(`${projectionLine(d.slos[0]!, d.evaluated_at)}.`);
      expect(seen.text).toContain(
        '🟦 blue: budget consumed · 🟧 amber: soft-pause line (50%) · 🟥 red: hard-pause line (100%)',
      );
      expect(seen.charts).toBe(3);
      if (name === 'soft-pause') {
        const png = Buffer.from(await page.screenshot({ type: 'png', fullPage: true }));
        const result = await matchesReference(page, png, resolve(ROOT, 'docs/job-summary.png'));
        expect(result.ok, result.ok ? '' : result.message).toBe(true);
      }
    });
  }
});
