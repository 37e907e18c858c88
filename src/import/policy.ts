import { Document, isMap, isSeq, type YAMLMap } from 'yaml';
import { DEFAULT_ALERTS } from '../policy/spec/schema.ts';
import type { ImportedSlo, ImportResult } from './model.ts';

// Imported SLOs as a policy file: each SLO preceded by a comment saying where it came from and
// what changed on the way; what was skipped listed at the top, so the file itself says it.

const labelText = (l: Record<string, string>) =>
  Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ') || 'no labels';

/**
 * Sloth's page alerts are the workbook's 14.4× (1h/5m) and 6× (6h/30m) burns, its ticket alerts
 * 3× (1d/2h) and 1× (3d/6h): exactly budget-gate's default table, severities sev1, sev2, sev3. The
 * table is policy-wide, so a kind stays when any SLO keeps it.
 */
function alertsFor(slos: ImportedSlo[]): { alerts: typeof DEFAULT_ALERTS; comment: string } | null {
  const withAlerting = slos.filter((s) => s.alerting);
  if (withAlerting.length === 0) return null;
  const page = withAlerting.some((s) => s.alerting!.page !== null);
  const ticket = withAlerting.some((s) => s.alerting!.ticket !== null);
  const alerts = DEFAULT_ALERTS.filter((a) => (a.action === 'ticket' ? ticket : page));
  const lines = withAlerting.map((s) => {
    const a = s.alerting!;
    const kinds = [
      a.page ? `page (${labelText(a.page)}) → fast-burn sev1, steady-burn sev2` : 'page disabled',
      a.ticket ? `ticket (${labelText(a.ticket)}) → slow-burn, creeping-burn sev3` : 'ticket disabled',
    ];
    return ` ${s.name}${a.name ? ` [${a.name}]` : ''}: ${kinds.join('; ')}`;
  });
  return {
    alerts,
    comment: [
      ' Sloth alerting, as budget-gate severities (Sloth page alerts are the 14.4x and 6x burns, ticket',
      ' alerts the 3x and 1x; route sev1/sev2 to the page labels and sev3 to the ticket ones):',
      ...lines,
    ].join('\n'),
  };
}

export function policyYaml(result: ImportResult, tool: string, files: string[]): string {
  const alerting = alertsFor(result.slos);
  const body: Record<string, unknown> = {
    version: 1,
    slos: result.slos.map((s) => ({
      name: s.name,
      ...(s.description ? { description: s.description } : {}),
      sli: { kind: 'success' },
      target: s.target,
      window: s.window,
      scope: 'all',
      source: { prometheus: s.source },
    })),
    ...(alerting ? { alerts: alerting.alerts } : {}),
  };
  const doc = new Document(body);
  const header = [
    ` budget-gate policy imported by \`budget-gate import ${tool}\` from ${files.join(', ')}.`,
    ' Review it: states, risk rules, overrides and auto_revert take their defaults (see the README).',
    ' Every SLO reads its counts from Prometheus; its scope is `all` since the query already selects.',
  ];
  if (result.skipped.length > 0) {
    header.push('', ' Not imported:');
    for (const s of result.skipped) header.push(`   ${s.origin}: ${s.why}`);
  }
  doc.commentBefore = header.join('\n');
  const slos = doc.get('slos', true);
  if (isSeq(slos)) {
    for (const [i, node] of slos.items.entries()) {
      const s = result.slos[i]!;
      (node as YAMLMap).commentBefore = [` from ${s.origin}`, ...s.notes.map((n) => `   ${n}`)].join('\n');
      if (isMap(node)) {
        // Flow style for the one-line SLI keeps each SLO short to read.
        const sli = node.get('sli', true);
        if (isMap(sli)) sli.flow = true;
      }
    }
  }
  if (alerting) {
    const pair =
      doc.contents && isMap(doc.contents)
        ? doc.contents.items.find((p) => String((p.key as { value?: unknown }).value) === 'alerts')
        : undefined;
    if (pair) (pair.key as { commentBefore?: string }).commentBefore = alerting.comment;
    const seq = doc.get('alerts', true);
    if (isSeq(seq)) for (const a of seq.items) if (isMap(a)) a.flow = true;
  }
  return doc.toString({ lineWidth: 0 });
}
