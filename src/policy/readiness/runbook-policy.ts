import { type DrillRecord, type DrillStatus, drillRecordSchema, drillStatus } from '../oncall/drill.ts';
import type { Alert, Policy } from '../spec/schema.ts';
import { lintRunbook, type RunbookLint, urlShapeProblems } from './runbook.ts';

// Every alert's runbook, judged: a file is read (through the caller's reader: this module does no
// I/O) and linted step by step; a URL can only be checked for shape, so it counts as unverified.
// Drilled means the drill records say so, per member (src/policy/oncall/drill.ts).

export type RepoReader = (path: string) => string | null;

/** The repository as the judges read it: a reader and a directory lister (file names, or null). */
export interface RepoView {
  read: RepoReader;
  list: (dir: string) => string[] | null;
}

interface DrillRecords {
  dir: string;
  records: Array<{ file: string; record: DrillRecord }>;
  /** Files in the folder that are not drill records, and why. */
  problems: string[];
}

/** The drill records in the policy's folder (oncall.runbooks.drills). */
export function readDrills(policy: Policy, files: RepoView): DrillRecords {
  const dir = policy.oncall.runbooks.drills;
  const out: DrillRecords = { dir, records: [], problems: [] };
  for (const name of (files.list(dir) ?? []).filter((f) => f.endsWith('.json')).sort()) {
    const file = `${dir}/${name}`;
    const text = files.read(file);
    if (text === null) continue;
    try {
      const parsed = drillRecordSchema.safeParse(JSON.parse(text));
      if (parsed.success) out.records.push({ file, record: parsed.data });
      else
        out.problems.push(
          `${file}: not a drill record (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`,
        );
    } catch (e) {
      out.problems.push(`${file}: not JSON (${(e as Error).message})`);
    }
  }
  return out;
}

export interface AlertRunbook {
  alert: string;
  severity: Alert['severity'];
  /** Pages someone (action: page, and its severity can page). */
  paging: boolean;
  runbook: string | null;
  kind: 'file' | 'url' | 'none';
  cadence_days: number;
  lint: RunbookLint | null;
  /** Who ran it, from the drill records (null for a URL or a missing runbook). */
  drills: DrillStatus | null;
  verdict: 'missing' | 'unverified' | 'vague' | 'concrete' | 'concrete+drilled';
  problems: string[];
  /** A paging alert whose runbook is missing, unverified, vague or undrilled. */
  fails: boolean;
}

const DAY = 86_400_000;

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function judgeRunbooks(policy: Policy, files: RepoView, today: number): AlertRunbook[] {
  const read = files.read;
  const drills = readDrills(policy, files);
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
        drills: null,
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
        drills: null,
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
        drills: null,
        verdict: 'missing',
        problems: [`${path}: no such file in the repository`],
        fails: paging,
      };
    const claimed = lintRunbook(text, today, cadence);
    const status = drillStatus(policy.oncall, a.name, drills.records, today, cadence);
    // The steps as written; drilled as the records say, not as a `last drilled:` line claims.
    const vague = claimed.verdict === 'vague';
    const verdict = vague ? 'vague' : status.drilled ? 'concrete+drilled' : 'concrete';
    const lint: RunbookLint = {
      ...claimed,
      drilled: status.drilled,
      verdict,
      steps: claimed.steps.map((st) => ({
        ...st,
        verdict: st.verdict === 'vague' ? 'vague' : status.drilled ? 'concrete+drilled' : 'concrete',
      })),
    };
    const problems = [...lint.problems, ...status.incomplete];
    if (lint.last_drill && !status.drilled)
      problems.push(
        `\`last drilled: ${lint.last_drill.date} by ${lint.last_drill.by}\` is a claim, not evidence: run \`budget-gate drill ${a.name}\` with each member (records in ${drills.dir}/)`,
      );
    for (const m of status.members.filter((m) => !m.within))
      problems.push(
        m.last
          ? `@${m.login} last ran it ${iso(m.last.at)}, ${Math.floor((today - m.last.at) / DAY)} days ago: over the ${cadence / DAY}-day cadence`
          : `@${m.login} has never run it in a drill (\`budget-gate drill ${a.name}\` while they are on call)`,
      );
    if (status.members.length === 0)
      problems.push(`never drilled: no record in ${drills.dir}/ (\`budget-gate drill ${a.name}\`)`);
    return {
      ...base,
      kind: 'file',
      lint,
      drills: status,
      verdict,
      problems,
      fails: paging && verdict !== 'concrete+drilled',
    };
  });
}

/**
 * The alerts that matter most: by how often they fired when the history is known (the operating
 * model's order), then by severity and the faster burn.
 */
export function topAlerts(policy: Policy, n: number, fired: Record<string, number> | null = null): Alert[] {
  return [...policy.alerts]
    .sort(
      (a, b) =>
        (fired ? (fired[b.name] ?? 0) - (fired[a.name] ?? 0) : 0) ||
        a.severity.localeCompare(b.severity) ||
        b.burn_rate - a.burn_rate,
    )
    .slice(0, n);
}
