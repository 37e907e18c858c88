/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Page } from 'puppeteer-core';

// What a test reads back from a chart Mermaid drew in the browser, and the reference-image check.

export type Theme = 'default' | 'dark';

interface DrawnLine {
  stroke: string;
  points: { x: number; y: number }[];
}

export interface DrawnChart {
  lines: DrawnLine[];
  background: string | null;
  title: string;
  /** The title's horizontal extent and the chart's, in screen pixels. */
  titleBox: { left: number; right: number };
  chartBox: { left: number; right: number };
  svg: string;
}

/** Parses (a syntax error throws) and renders one Mermaid source as GitHub does, in `theme`. */
export async function drawMermaid(page: Page, source: string, theme: Theme): Promise<DrawnChart> {
  return page.evaluate(
    async (code, theme) => {
      // biome-ignore lint/suspicious/noExplicitAny: mermaid is the page's global, loaded by a <script>
      const mermaid = (window as any).mermaid;
      mermaid.initialize({ startOnLoad: false, theme, securityLevel: 'strict' });
      await mermaid.parse(code);
      const id = `chart-${Math.random().toString(36).slice(2)}`;
      const { svg } = await mermaid.render(id, code);
      const host = document.createElement('div');
      host.style.width = '700px';
      host.innerHTML = svg;
      document.body.replaceChildren(host);
      const el = host.querySelector('svg')!;
      const lines = [...el.querySelectorAll('g.plot > g[class^="line-plot-"] > path')].map((p) => ({
        stroke: (p.getAttribute('stroke') ?? '').toLowerCase(),
        points: (p.getAttribute('d') ?? '')
          .split(/[ML]/)
          .filter((s) => s.trim() !== '')
          .map((s) => {
            const [x, y] = s.split(',').map(Number);
            return { x: x!, y: y! };
          }),
      }));
      const title = el.querySelector('g.chart-title text');
      const t = title?.getBoundingClientRect();
      const c = el.getBoundingClientRect();
      return {
        lines,
        background: el.querySelector('rect.background')?.getAttribute('fill') ?? null,
        title: title?.textContent ?? '',
        titleBox: { left: t?.left ?? 0, right: t?.right ?? 0 },
        chartBox: { left: c.left, right: c.right },
        svg,
      };
    },
    source,
    theme,
  );
}

/** The source inside a ```mermaid block. */
export function mermaidSource(block: string): string {
  return block.replace(/^```mermaid\n/, '').replace(/\n```$/, '');
}

/** WCAG contrast ratio of two #rrggbb colours. */
export function contrast(a: string, b: string): number {
  const lum = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const v = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** Share of pixels that differ visibly (any channel by more than 48 of 255) between two PNGs. */
async function pngDifference(page: Page, a: Buffer, b: Buffer): Promise<number> {
  return page.evaluate(
    async (a64, b64) => {
      const load = async (b64: string) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(img, 0, 0);
        return ctx.getImageData(0, 0, canvas.width, canvas.height);
      };
      const [x, y] = [await load(a64), await load(b64)];
      if (x.width !== y.width || x.height !== y.height) return 1;
      let differ = 0;
      for (let i = 0; i < x.data.length; i += 4) {
        for (let c = 0; c < 3; c++) {
          if (Math.abs(x.data[i + c]! - y.data[i + c]!) > 48) {
            differ++;
            break;
          }
        }
      }
      return differ / (x.width * x.height);
    },
    a.toString('base64'),
    b.toString('base64'),
  );
}

/** Set to refresh the reference images after looking at the new ones. */
const UPDATE = process.env.BUDGET_GATE_UPDATE_SCREENSHOTS === '1';

/**
 * A screenshot against its reference image. Fonts and anti-aliasing shift a few pixels between
 * Chromium builds; a changed line, colour or layout moves far more than `tolerance` of them. On a
 * change the new image is written beside the temp dir for a person to look at before updating.
 */
export async function matchesReference(
  page: Page,
  png: Buffer,
  reference: string,
  tolerance = 0.01,
): Promise<{ ok: true } | { ok: false; message: string }> {
  if (UPDATE) {
    await mkdir(dirname(reference), { recursive: true });
    await writeFile(reference, png);
    return { ok: true };
  }
  // Per process: a second run beside this one writes its own.
  const fresh = join(tmpdir(), `budget-gate-${process.pid}-${basename(reference)}`);
  if (!existsSync(reference)) {
    await writeFile(fresh, png);
    return {
      ok: false,
      message: `no reference image ${reference}: look at ${fresh}, then run with BUDGET_GATE_UPDATE_SCREENSHOTS=1`,
    };
  }
  const diff = await pngDifference(page, await readFile(reference), png);
  if (diff <= tolerance) return { ok: true };
  await writeFile(fresh, png);
  return {
    ok: false,
    message: `${reference} changed (${(diff * 100).toFixed(2)}% of pixels): look at ${fresh}; if it is right, run with BUDGET_GATE_UPDATE_SCREENSHOTS=1`,
  };
}
