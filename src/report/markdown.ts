import type { Decision, SloReport } from '../policy/gate/decision-schema.ts';
import { actionsByEffect, chartedSlos, projectionLine, STATE_LABEL, verdict, when } from './format.ts';
import { headlineFacts } from './headline.ts';
import { code, prose, relativeToWorkspace } from './markdown-text.ts';
import { chartLegend, gapNote, mermaidChart } from './mermaid.ts';
import { markdownTable, sloRows } from './table.ts';

const ICON = { ship: '🟢', 'soft-pause': '🟠', 'hard-pause': '🔴' } as const;

export interface MarkdownOptions {
  /**
   * The checkout the paths are relative to (the runner's GITHUB_WORKSPACE): the telemetry file is
   * shown as `telemetry/tasks.jsonl`, not as an absolute path on somebody's machine.
   */
  workspace?: string;
}

/** The decision as GitHub Markdown: job summary, check-run summary, PR comment. */
export function renderMarkdown(d: Decision, opts: MarkdownOptions = {}): string {
  const text = (s: string) => prose(relativeToWorkspace(s, opts.workspace));
  const out: string[] = [];
  // The title states the verdict; the line under it only the facts behind it.
  out.push(`### ${ICON[d.state]} ${STATE_LABEL[d.state]} — ${verdict(d)}`, '');
  const facts = headlineFacts(d);
  if (facts) out.push(text(facts), '');
  out.push('**Why**', '');
  for (const r of d.reasons) out.push(`- ${text(r.message)}${r.rule ? ` (${code(r.rule)})` : ''}`);
  if (d.actions.length > 0) {
    out.push('', '**What you can do**', '');
    for (const a of actionsByEffect(d)) out.push(`- ${text(a)}`);
  }
  if (d.override) {
    out.push(
      '',
      `**Override:** ${code(d.override.label)} applied by @${d.override.applied_by} at ${when(d.override.applied_at)}; expires ${when(d.override.expires_at)}. Written to the audit log.`,
    );
  }
  if (d.override_refusals.length > 0) {
    out.push('', '**Override labels refused**', '');
    for (const r of d.override_refusals) out.push(`- ${code(r.label)}: ${text(r.message)}`);
  }
  if (d.slos.length > 0) {
    const { header, rows } = sloRows(d);
    out.push('', ...markdownTable(header, rows));
  }
  if (d.alerts.length > 0) {
    out.push('', '**Alerts firing**', '');
    for (const a of d.alerts) {
      const runbook = a.runbook ? ` — [runbook](${a.runbook})` : '';
      out.push(
        `- **${a.severity}** ${text(a.name)} on ${code(a.slo)}: ${a.long_burn.toFixed(1)}x over ${a.long}, ${a.short_burn.toFixed(1)}x over ${a.short} (≥ ${a.burn_rate}x) — ${a.action}${runbook}`,
      );
    }
  }
  for (const slo of chartedSlos(d)) out.push(...chartSection(d, slo, text));
  if (d.risk_files.length > 0) {
    const high = d.risk_files.filter((f) => f.class === 'high');
    out.push(
      '',
      `<details><summary>${d.risk_files.length} changed file${d.risk_files.length === 1 ? '' : 's'}, ${high.length} high risk</summary>`,
      '',
    );
    for (const f of d.risk_files.slice(0, 100)) out.push(`- ${code(f.path)} — ${f.class} (${code(f.rule)})`);
    if (d.risk_files.length > 100) out.push(`- … and ${d.risk_files.length - 100} more`);
    out.push('', '</details>');
  }
  if (d.warnings.length > 0) {
    out.push('', '**Warnings**', '');
    for (const w of d.warnings) out.push(`- ${text(w)}`);
  }
  out.push('', `<sub>budget-gate · evaluated ${when(d.evaluated_at)} · telemetry: ${source(d, opts)}</sub>`);
  return `${out.join('\n')}\n`;
}

/** "jsonl `telemetry/tasks.jsonl`": the kind of source, then where it is, relative to the workspace. */
function source(d: Decision, opts: MarkdownOptions): string {
  const [kind, ...where] = relativeToWorkspace(d.telemetry.source, opts.workspace).split(' ');
  return where.length > 0 ? `${prose(kind!)} ${code(where.join(' '))}` : prose(kind!);
}

/** The burn chart, its legend (Mermaid's xychart draws none), and the projection under it. */
function chartSection(d: Decision, slo: SloReport, text: (s: string) => string): string[] {
  const { soft_pause: soft, hard_pause: hard } = d.thresholds;
  const chart = mermaidChart(slo, soft, hard);
  if (!chart) return [];
  const notes = [projectionLine(slo, d.evaluated_at), gapNote(slo)].filter((n): n is string => n !== null);
  return ['', chart, '', chartLegend(soft, hard), '', `_${text(notes.join('. '))}._`];
}
