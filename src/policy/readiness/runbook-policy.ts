import type { Alert, Policy } from '../spec/schema.ts';
import { lintRunbook, type RunbookLint, urlShapeProblems } from './runbook.ts';

// Every alert's runbook, judged: a file is read (through the caller's reader: this module does no
// I/O) and linted step by step; a URL can only be checked for shape, so it counts as unverified.

export type RepoReader = (path: string) => string | null;

export interface AlertRunbook {
  alert: string;
  severity: Alert['severity'];
  /** Pages someone (action: page, and its severity can page). */
  paging: boolean;
  runbook: string | null;
  kind: 'file' | 'url' | 'none';
  cadence_days: number;
  lint: RunbookLint | null;
  verdict: 'missing' | 'unverified' | 'vague' | 'concrete' | 'concrete+drilled';
  problems: string[];
  /** A paging alert whose runbook is missing, unverified, vague or undrilled. */
  fails: boolean;
}

const DAY = 86_400_000;

export function judgeRunbooks(policy: Policy, read: RepoReader, today: number): AlertRunbook[] {
  return policy.alerts.map((a) => {
    const paging = a.action === 'page' && policy.oncall.severities[a.severity].page !== 'never';
    const cadence = a.drill_every?.ms ?? policy.oncall.runbooks.drill_every.ms;
    const base = {
      alert: a.name,
      severity: a.severity,
      paging,
      runbook: a.runbook ?? null,
      cadence_days: cadence / DAY,
    };
    if (!a.runbook)
      return {
        ...base,
        kind: 'none',
        lint: null,
        verdict: 'missing',
        problems: [`alerts: ${a.name} has no runbook`],
        fails: paging,
      };
    if (/^https?:\/\//.test(a.runbook)) {
      const shape = urlShapeProblems(a.runbook);
      return {
        ...base,
        kind: 'url',
        lint: null,
        verdict: 'unverified',
        problems: [
          ...shape.map((p) => `URL ${p}`),
          'kept outside the repository: its steps and drills cannot be checked; move it into the repository to have them checked',
        ],
        fails: paging,
      };
    }
    const path = a.runbook.replace(/#.*$/, '');
    const text = read(path);
    if (text === null)
      return {
        ...base,
        kind: 'file',
        lint: null,
        verdict: 'missing',
        problems: [`${path}: no such file in the repository`],
        fails: paging,
      };
    const lint = lintRunbook(text, today, cadence);
    const problems = [...lint.problems];
    if (!lint.last_drill)
      problems.push(`never drilled: add \`last drilled: YYYY-MM-DD by @who\` after a drill`);
    else if (!lint.drilled)
      problems.push(
        `last drilled ${lint.last_drill.date} by ${lint.last_drill.by}, ${Math.floor((today - lint.last_drill.at) / DAY)} days ago: over the ${cadence / DAY}-day cadence`,
      );
    return {
      ...base,
      kind: 'file',
      lint,
      verdict: lint.verdict,
      problems,
      fails: paging && lint.verdict !== 'concrete+drilled',
    };
  });
}

/** The alerts that matter most: by severity, then the faster burn first. */
export function topAlerts(policy: Policy, n: number): Alert[] {
  return [...policy.alerts]
    .sort((a, b) => a.severity.localeCompare(b.severity) || b.burn_rate - a.burn_rate)
    .slice(0, n);
}
