import type { Decision } from '../policy/gate/decision-schema.ts';
import { burn, count, p95Of, pct, STATE_LABEL, target } from './format.ts';

/** The SLO table every surface shows: one row per SLO, the same columns in text and Markdown. */
export function sloRows(d: Decision): { header: string[]; rows: string[][] } {
  const lookbacks = ['1h', '6h', '1d'].filter((k) => d.slos.some((s) => k in s.burn_rates));
  const header = [
    'SLO',
    'target',
    'window',
    'tasks',
    'bad',
    'consumed',
    ...lookbacks.map((k) => `burn ${k}`),
    'p95',
    'state',
  ];
  const rows = d.slos.map((s) => [
    s.name,
    target(s.target),
    s.window,
    count(s.events),
    count(s.bad),
    s.insufficient_data ? `${pct(s.consumed)} (too few tasks)` : pct(s.consumed),
    ...lookbacks.map((k) => burn(s.burn_rates[k])),
    p95Of(s),
    STATE_LABEL[s.state],
  ]);
  return { header, rows };
}

export function padTable(header: string[], rows: string[][], indent = '  '): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export function markdownTable(header: string[], rows: string[][]): string[] {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
}
