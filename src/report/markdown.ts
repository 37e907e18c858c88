import type { Decision } from '../policy/decision-schema.ts';
import { chartedSlos, pct, projectionLine, STATE_LABEL, verdict, when } from './format.ts';
import { renderHeadline } from './headline.ts';
import { mermaidChart } from './mermaid.ts';
import { markdownTable, sloRows } from './table.ts';

const ICON = { ship: '🟢', 'soft-pause': '🟠', 'hard-pause': '🔴' } as const;

/** The decision as GitHub Markdown: job summary, check-run summary, PR comment. */
export function renderMarkdown(d: Decision): string {
  const out: string[] = [];
  out.push(`### ${ICON[d.state]} ${STATE_LABEL[d.state]} — ${verdict(d)}`, '', renderHeadline(d), '');
  out.push('**Why**', '');
  for (const r of d.reasons) out.push(`- ${r.message}${r.rule ? ` (\`${r.rule}\`)` : ''}`);
  if (d.actions.length > 0) {
    out.push('', '**What you can do**', '');
    for (const a of d.actions) out.push(`- ${a}`);
  }
  if (d.override) {
    out.push(
      '',
      `**Override:** \`${d.override.label}\` applied by @${d.override.applied_by} at ${when(d.override.applied_at)}; expires ${when(d.override.expires_at)}. Written to the audit log.`,
    );
  }
  if (d.override_refusals.length > 0) {
    out.push('', '**Override labels refused**', '');
    for (const r of d.override_refusals) out.push(`- \`${r.label}\`: ${r.message}`);
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
        `- **${a.severity}** ${a.name} on \`${a.slo}\`: ${a.long_burn.toFixed(1)}x over ${a.long}, ${a.short_burn.toFixed(1)}x over ${a.short} (≥ ${a.burn_rate}x) — ${a.action}${runbook}`,
      );
    }
  }
  for (const slo of chartedSlos(d)) {
    out.push('', mermaidChart(slo, d.thresholds.soft_pause, d.thresholds.hard_pause));
    out.push(
      '',
      `_${projectionLine(slo, d.evaluated_at)}; lines at ${pct(d.thresholds.soft_pause)} (soft pause) and ${pct(d.thresholds.hard_pause)} (hard pause)._`,
    );
  }
  if (d.risk_files.length > 0) {
    const high = d.risk_files.filter((f) => f.class === 'high');
    out.push(
      '',
      `<details><summary>${d.risk_files.length} changed file${d.risk_files.length === 1 ? '' : 's'}, ${high.length} high risk</summary>`,
      '',
    );
    for (const f of d.risk_files.slice(0, 100)) out.push(`- \`${f.path}\` — ${f.class} (\`${f.rule}\`)`);
    if (d.risk_files.length > 100) out.push(`- … and ${d.risk_files.length - 100} more`);
    out.push('', '</details>');
  }
  if (d.warnings.length > 0) {
    out.push('', '**Warnings**', '');
    for (const w of d.warnings) out.push(`- ${w}`);
  }
  out.push(
    '',
    `<sub>budget-gate · evaluated ${when(d.evaluated_at)} · telemetry: ${d.telemetry.source}</sub>`,
  );
  return `${out.join('\n')}\n`;
}
