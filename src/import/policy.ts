import { Document, isMap, isSeq, type YAMLMap } from 'yaml';
import type { z } from 'zod';
import { alertSchema, DEFAULT_ALERTS } from '../policy/spec/schema.ts';
import type { ImportedSlo, ImportResult } from './model.ts';

// Imported SLOs as a policy file: each SLO preceded by a comment saying where it came from and
// what changed on the way; what was skipped listed at the top, so the file itself says it.

const labelText = (l: Record<string, string>) =>
  Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ') || 'no labels';

/** The tool whose alerting an SLO's came from, for the comment. */
const TOOL_NAMES: Record<string, string> = { sloth: 'Sloth', openslo: 'OpenSLO', pyrra: 'Pyrra' };

/**
 * The one runbook a kind's alerts can carry: the policy's alert table is policy-wide, so a runbook
 * goes on the alerts only when every SLO that keeps the kind names the same one.
 */
function sharedRunbook(slos: ImportedSlo[], kind: 'page' | 'ticket'): string | null {
  const books = new Set(
    slos.filter((s) => s.alerting![kind] !== null).map((s) => s.alerting!.runbooks[kind]),
  );
  if (books.size !== 1) return null;
  const [book] = books;
  return book && alertSchema.shape.runbook.safeParse(book).success ? book : null;
}

/**
 * Sloth's (and Pyrra's) page alerts are the workbook's 14.4× (1h/5m) and 6× (6h/30m) burns, its
 * ticket alerts 3× (1d/2h) and 1× (3d/6h): exactly budget-gate's default table, severities sev1,
 * sev2, sev3. The table is policy-wide, so a kind stays when any SLO keeps it.
 */
function alertsFor(
  slos: ImportedSlo[],
  tool: string,
): { alerts: z.input<typeof alertSchema>[]; comment: string } | null {
  const withAlerting = slos.filter((s) => s.alerting);
  if (withAlerting.length === 0) return null;
  const page = withAlerting.some((s) => s.alerting!.page !== null);
  const ticket = withAlerting.some((s) => s.alerting!.ticket !== null);
  const runbook = {
    page: sharedRunbook(withAlerting, 'page'),
    ticket: sharedRunbook(withAlerting, 'ticket'),
  };
  const alerts = DEFAULT_ALERTS.filter((a) => (a.action === 'ticket' ? ticket : page)).map((a) => {
    const book = a.action === 'ticket' ? runbook.ticket : runbook.page;
    return book ? { ...a, runbook: book } : a;
  });
  const lines = withAlerting.map((s) => {
    const a = s.alerting!;
    const book = (k: 'page' | 'ticket') =>
      a.runbooks[k] && a.runbooks[k] !== runbook[k] ? `, runbook ${a.runbooks[k]}` : '';
    const kinds = [
      a.page
        ? `page (${labelText(a.page)}${book('page')}) → fast-burn sev1, steady-burn sev2`
        : 'page disabled',
      a.ticket
        ? `ticket (${labelText(a.ticket)}${book('ticket')}) → slow-burn, creeping-burn sev3`
        : 'ticket disabled',
    ];
    return ` ${s.name}${a.name ? ` [${a.name}]` : ''}: ${kinds.join('; ')}`;
  });
  const perSlo = withAlerting.some(
    (s) =>
      (s.alerting!.runbooks.page && s.alerting!.runbooks.page !== runbook.page) ||
      (s.alerting!.runbooks.ticket && s.alerting!.runbooks.ticket !== runbook.ticket),
  );
  const name = TOOL_NAMES[tool] ?? tool;
  return {
    alerts,
    comment: [
      ...(tool === 'sloth'
        ? [
            ' Sloth alerting, as budget-gate severities (Sloth page alerts are the 14.4x and 6x burns, ticket',
            ' alerts the 3x and 1x; route sev1/sev2 to the page labels and sev3 to the ticket ones):',
          ]
        : [
            ` ${name} alerts on the SRE workbook's multi-window burn rates, as this table does (sev1/sev2`,
            ' page, sev3 tickets):',
          ]),
      ...lines,
      ...(perSlo
        ? [
            ' The alerts below are policy-wide: SLOs with different runbooks keep theirs in this list; give',
            ' each alert the runbook on-call should open (`runbooks lint` checks them).',
          ]
        : []),
    ].join('\n'),
  };
}

/**
 * No spec says which changes are risky, yet without a high-risk rule (and a low default) a
 * SOFT-PAUSE holds nothing. These are the usual homes of prompts and model settings in an agent
 * repository: a starting point, said to be one.
 */
const DEFAULT_RISK = {
  default: 'low',
  rules: [
    {
      paths: ['prompts/**', 'models/**', 'config/model*.yml', 'config/model*.yaml'],
      class: 'high',
      description: 'prompt rewrites and model changes',
    },
  ],
};

const RISK_COMMENT = [
  ' Risk rules: no spec says which changes are risky. These globs are where agent repositories',
  ' usually keep prompts and model settings: ADJUST THEM to your layout. Under SOFT-PAUSE, changes',
  ' matching a `high` rule wait and the rest ship; with no `high` rule, SOFT-PAUSE holds nothing.',
].join('\n');

export function policyYaml(result: ImportResult, tool: string, files: string[]): string {
  const alerting = alertsFor(result.slos, tool);
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
    risk: DEFAULT_RISK,
    ...(alerting ? { alerts: alerting.alerts } : {}),
  };
  const doc = new Document(body);
  const header = [
    ` budget-gate policy imported by \`budget-gate import ${tool}\` from ${files.join(', ')}.`,
    ' Review it: the risk rules are a starting point; states, overrides and auto_revert take their',
    ' defaults (see the README). Every SLO reads Prometheus; its scope is `all` since the query selects.',
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
  const keyOf = (name: string) =>
    doc.contents && isMap(doc.contents)
      ? doc.contents.items.find((p) => String((p.key as { value?: unknown }).value) === name)
      : undefined;
  const riskPair = keyOf('risk');
  if (riskPair) (riskPair.key as { commentBefore?: string }).commentBefore = RISK_COMMENT;
  const rules = doc.getIn(['risk', 'rules', 0, 'paths'], true);
  if (isSeq(rules)) rules.flow = true;
  if (alerting) {
    const pair = keyOf('alerts');
    if (pair) (pair.key as { commentBefore?: string }).commentBefore = alerting.comment;
    const seq = doc.get('alerts', true);
    if (isSeq(seq)) for (const a of seq.items) if (isMap(a)) a.flow = true;
  }
  return doc.toString({ lineWidth: 0 });
}
