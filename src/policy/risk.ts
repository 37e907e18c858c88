import picomatch from 'picomatch';
import type { Change } from './change.ts';
import type { Policy, RiskClass } from './schema.ts';

type RiskPolicy = Policy['risk'];

export interface RiskFile {
  path: string;
  class: RiskClass;
  /** `risk.rules[i]` or `risk.default`. */
  rule: string;
}

export interface RiskAssessment {
  risk: RiskClass;
  files: RiskFile[];
}

const GLOB = { dot: true } as const;

/** First matching rule wins per file; the change is as risky as its riskiest file. */
export function classifyRisk(risk: RiskPolicy, files: string[]): RiskAssessment {
  const matchers = risk.rules.map((rule) => picomatch(rule.paths, GLOB));
  const out: RiskFile[] = [];
  let overall: RiskClass = 'low';
  for (const path of files) {
    const index = matchers.findIndex((m) => m(path));
    const cls = index >= 0 ? risk.rules[index]!.class : risk.default;
    out.push({ path, class: cls, rule: index >= 0 ? `risk.rules[${index}]` : 'risk.default' });
    if (cls === 'high') overall = 'high';
  }
  // An empty change set (nothing to compare with) is judged by the default class: safer than "low".
  if (files.length === 0) overall = risk.default;
  return { risk: overall, files: out };
}

export interface ShadowedPattern {
  rule: number;
  index: number;
  pattern: string;
  by: { rule: number; pattern: string };
}

/**
 * Later patterns an earlier rule already covers. Glob containment is undecidable in general; this
 * catches the common case: the later pattern, read as a path, is matched by an earlier pattern
 * (`prompts/**` shadows `prompts/*.md`), or is the same pattern again.
 */
export function shadowedRiskRules(risk: RiskPolicy): ShadowedPattern[] {
  const out: ShadowedPattern[] = [];
  risk.rules.forEach((rule, r) => {
    rule.paths.forEach((pattern, index) => {
      for (let earlier = 0; earlier < r; earlier++) {
        const hit = risk.rules[earlier]!.paths.find((p) => p === pattern || picomatch(p, GLOB)(pattern));
        if (hit !== undefined) {
          out.push({ rule: r, index, pattern, by: { rule: earlier, pattern: hit } });
          return;
        }
      }
    });
  });
  return out;
}

const REVERT_TITLE = /^revert\b/i;
const REVERT_BRANCH = /^(budget-gate\/revert-|revert-\d+-)/;
const REVERT_BODY = /This reverts commit [0-9a-f]{7,40}/;

/**
 * A change that undoes an earlier one: the bot's revert branches, GitHub's "Revert" button
 * (branch `revert-<n>-…`, title `Revert "…"`), or commits made by `git revert`.
 */
export function isRevert(change: Change): boolean {
  if (change.revert) return true;
  if (change.head_ref && REVERT_BRANCH.test(change.head_ref)) return true;
  if (change.title && REVERT_TITLE.test(change.title.trim())) return true;
  const msgs = change.commit_messages ?? [];
  return msgs.length > 0 && msgs.every((m) => REVERT_BODY.test(m));
}
