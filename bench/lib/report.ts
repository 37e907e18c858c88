// Every figure is printed against a baseline measured in the same run: machines are noisy, ratios
// travel better than milliseconds.

export interface Figure {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: { label: string; value: number };
  /** value / baseline, or another ratio the target is stated in. */
  ratio?: number;
  target?: string;
  met?: boolean;
  note?: string;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

const fmt = (v: number, unit: string) =>
  `${v >= 100 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3)).toString()} ${unit}`.trim();

export function printFigures(title: string, figures: Figure[], write: (s: string) => void): void {
  write(`\n## ${title}\n`);
  for (const f of figures) {
    const base = f.baseline ? `  (baseline ${f.baseline.label}: ${fmt(f.baseline.value, f.unit)})` : '';
    const ratio = f.ratio !== undefined ? `  ratio ${f.ratio.toFixed(2)}` : '';
    const target = f.target
      ? `  target ${f.target} ${f.met === undefined ? '' : f.met ? '✔ met' : '✘ missed'}`
      : '';
    write(`  ${f.metric}: ${fmt(f.value, f.unit)}${base}${ratio}${target}${f.note ? `  — ${f.note}` : ''}\n`);
  }
}
