import type { Decision } from '../policy/gate/decision-schema.ts';
import { actionsByEffect, chartedSlos, projectionLine, when } from './format.ts';
import { renderHeadline } from './headline.ts';
import { padTable, sloRows } from './table.ts';
import { textChart } from './text-chart.ts';

/** The decision for a person at a terminal: verdict, why, what to do, the SLOs, a burn chart. */
export function renderText(d: Decision): string {
  const out: string[] = [];
  out.push(renderHeadline(d), '');
  out.push('Why');
  for (const r of d.reasons) out.push(`  • ${r.message}${r.rule ? `  [${r.rule}]` : ''}`);
  if (d.actions.length > 0) {
    out.push('', 'What you can do');
    for (const a of actionsByEffect(d)) out.push(`  • ${a}`);
  }
  if (d.override) {
    out.push(
      '',
      `Override: \`${d.override.label}\` by @${d.override.applied_by} at ${when(d.override.applied_at)}, expires ${when(d.override.expires_at)}`,
    );
  }
  if (d.override_refusals.length > 0) {
    out.push('', 'Override labels refused');
    for (const r of d.override_refusals) out.push(`  • ${r.label}: ${r.message}`);
  }
  if (d.slos.length > 0) {
    const { header, rows } = sloRows(d);
    out.push('', ...padTable(header, rows));
  }
  if (d.alerts.length > 0) {
    out.push('', 'Alerts firing');
    for (const a of d.alerts) {
      out.push(
        `  • ${a.severity} ${a.name} on ${a.slo}: ${a.long_burn.toFixed(1)}x over ${a.long} and ${a.short_burn.toFixed(1)}x over ${a.short} (threshold ${a.burn_rate}x) — ${a.action}${a.runbook ? ` — runbook ${a.runbook}` : ''}`,
      );
    }
  }
  for (const slo of chartedSlos(d)) {
    out.push('', `Budget consumed: ${slo.name} (${slo.window})`);
    out.push(...textChart(slo, d.thresholds.soft_pause, { hardLine: d.thresholds.hard_pause }));
    out.push(`  ${projectionLine(slo, d.evaluated_at)}`);
  }
  if (d.warnings.length > 0) {
    out.push('', 'Warnings');
    for (const w of d.warnings) out.push(`  ! ${w}`);
  }
  out.push('', `evaluated at ${when(d.evaluated_at)} from ${d.telemetry.source}`);
  return `${out.join('\n')}\n`;
}
