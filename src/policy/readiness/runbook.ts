import { judgeStep } from './step.ts';

// Is a runbook something a person who joined last week could follow at 3 a.m.? Pure: the caller
// reads the markdown and passes its text and today's date. Each step is judged by step.ts (the
// rules are in the README, "Runbooks that work"); each verdict names the line and what is missing,
// so a false alarm is visible and a fix is obvious.

export { judgeStep };

type StepVerdict = 'vague' | 'concrete' | 'concrete+drilled';

interface RunbookStep {
  line: number;
  text: string;
  verdict: StepVerdict;
  /** What a reader would have to ask about: place, action, threshold, or vague wording. */
  missing: string[];
}

interface Drill {
  line: number;
  date: string;
  by: string;
  at: number;
}

export interface RunbookLint {
  steps: RunbookStep[];
  drills: Drill[];
  last_drill: Drill | null;
  /** The last drill is within the cadence. */
  drilled: boolean;
  verdict: StepVerdict;
  problems: string[];
}

const DRILL_RE = /last drilled:\s*(\d{4}-\d{2}-\d{2})\s+by\s+(@?[\w.-]+(?:\s*(?:,|and)\s*@?[\w.-]+)*)/i;
const STEP_RE = /^\s{0,3}(?:\d+[.)]|[-*+]\s+\[[ xX]\])\s+(.*)$/;
// "### 1. Check the pods", "## Step 2: Roll back": a numbered heading is a step, its body belongs to it.
const HEADING_STEP_RE = /^\s{0,3}#{2,6}\s+(?:step\s+)?\d+\s*[.):-]\s*(.*)$/i;
const BULLET_RE = /^\s{0,3}[-*+]\s+(.*)$/;
// A heading that introduces a procedure: plain bullets under it are steps when nothing is numbered.
const PROCEDURE_HEADING =
  /\b(?:steps?|procedure|runbook|mitigat\w*|diagnos\w*|remedia\w*|triage|actions?|what to do|respon\w*|resolution|resolv\w*|fix\w*|investigat\w*|checks?|recovery|rollback|immediate)\b/i;

interface Draft {
  line: number;
  text: string;
  code: boolean;
  /** A numbered heading's body (paragraphs, not only indented lines) belongs to it. */
  heading: boolean;
}

export function lintRunbook(markdown: string, today: number, cadenceMs: number): RunbookLint {
  const lines = markdown.split('\n');
  const steps: Draft[] = [];
  const bullets: Draft[] = [];
  const drills: Drill[] = [];
  const problems: string[] = [];
  let inFence = false;
  let current: Draft | null = null;
  let procedure = false;
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (/^\s*(```|~~~)/.test(raw)) {
      inFence = !inFence;
      if (current && inFence) current.code = true;
      return;
    }
    if (inFence) return;
    const d = DRILL_RE.exec(raw);
    if (d) {
      const at = Date.parse(`${d[1]}T00:00:00Z`);
      if (Number.isNaN(at)) problems.push(`line ${line}: drill date ${d[1]} is not a calendar date`);
      else if (at > today) problems.push(`line ${line}: drill date ${d[1]} is in the future`);
      else drills.push({ line, date: d[1]!, by: d[2]!, at });
      return;
    }
    const m = STEP_RE.exec(raw);
    const h = HEADING_STEP_RE.exec(raw);
    const b = BULLET_RE.exec(raw);
    if (m) {
      current = { line, text: m[1]!.trim(), code: false, heading: false };
      steps.push(current);
    } else if (h) {
      current = { line, text: h[1]!.trim(), code: false, heading: true };
      steps.push(current);
      procedure = true;
    } else if (/^\s*#/.test(raw)) {
      current = null;
      procedure = PROCEDURE_HEADING.test(raw);
    } else if (raw.trim() === '') {
      // A blank line ends nothing: a step's code block often follows one.
    } else if (b && procedure && !current?.heading) {
      current = { line, text: b[1]!.trim(), code: false, heading: false };
      bullets.push(current);
    } else if (current && (current.heading || /^\s{2,}\S/.test(raw))) {
      // A continuation line indented under the step (or any line under a step heading) belongs to it.
      current.text += ` ${raw.trim()}`;
    }
  });
  // Plain bullets are steps only when the runbook numbers nothing (many public runbooks do not).
  if (steps.length === 0) steps.push(...bullets);
  if (/last drilled/i.test(markdown) && drills.length === 0)
    problems.push('a "last drilled" line is not in the form `last drilled: 2026-10-01 by @alice`');

  drills.sort((a, b) => b.at - a.at);
  const last = drills[0] ?? null;
  const drilled = last !== null && today - last.at <= cadenceMs;
  const judged: RunbookStep[] = steps.map((s) => {
    const missing = judgeStep(s.text, s.code);
    return {
      line: s.line,
      text: s.text,
      missing,
      verdict: missing.length > 0 ? 'vague' : drilled ? 'concrete+drilled' : 'concrete',
    };
  });
  if (judged.length === 0)
    problems.push(
      'no steps: write them as a numbered list (1. 2. 3.), a checklist (- [ ]), numbered headings (### 1. …) or bullets under a "Steps" heading',
    );
  const vague = judged.length === 0 || judged.some((s) => s.verdict === 'vague');
  return {
    steps: judged,
    drills,
    last_drill: last,
    drilled,
    verdict: vague ? 'vague' : drilled ? 'concrete+drilled' : 'concrete',
    problems,
  };
}

/** A runbook kept elsewhere can only be checked for shape: https, a host, a page. */
export function urlShapeProblems(url: string): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return ['not a URL'];
  }
  const out: string[] = [];
  if (u.protocol !== 'https:') out.push('not https');
  if (u.pathname === '/' || u.pathname === '') out.push('points at a site, not a page');
  if (/\b(?:todo|tbd|placeholder|changeme)\b/i.test(url)) out.push('a placeholder');
  return out;
}
