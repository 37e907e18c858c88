import picomatch from 'picomatch';
import type { Change, RevertEvidence } from './change.ts';
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
const REVERT_BRANCH = /(^|\/)revert-/i;
const REVERTS_COMMIT = /This reverts commit ([0-9a-f]{7,40})/;

/** The commit a change says it reverts (`git revert`'s message), when exactly one is named. */
export function revertedCommit(change: Change): string | null {
  const shas = new Set<string>();
  for (const m of change.commit_messages ?? []) {
    const hit = REVERTS_COMMIT.exec(m);
    if (hit) shas.add(hit[1]!);
  }
  return shas.size === 1 ? [...shas][0]! : null;
}

/**
 * What the change says about itself: a title, a branch name or a commit message that calls it a
 * revert. Anyone can write those, so a claim alone never lets a change through; it is only worth
 * asking GitHub for evidence, and worth telling the person why it was not treated as a revert.
 */
export function revertClaim(change: Change): string | null {
  if (change.title && REVERT_TITLE.test(change.title.trim()))
    return `its title says "${change.title.trim()}"`;
  if (change.head_ref && REVERT_BRANCH.test(change.head_ref)) return `its branch is named ${change.head_ref}`;
  const sha = revertedCommit(change);
  if (sha) return `a commit message says "This reverts commit ${sha}"`;
  return null;
}

export interface RevertVerdict {
  revert: boolean;
  evidence: RevertEvidence | null;
  /** The change calls itself a revert without evidence GitHub vouches for. */
  unverifiedClaim: string | null;
}

/** A change is a revert only on evidence GitHub vouches for, never on what it says of itself. */
export function judgeRevert(change: Change): RevertVerdict {
  if (change.revert_evidence)
    return { revert: true, evidence: change.revert_evidence, unverifiedClaim: null };
  return { revert: false, evidence: null, unverifiedClaim: revertClaim(change) };
}

/** The evidence in words, for the reason and the audit record. */
export function describeRevertEvidence(e: RevertEvidence): string {
  switch (e.kind) {
    case 'app-pull-request':
      return `it is the ${e.app} App's own revert pull request #${e.pull_request} (branch ${e.branch}, opened and committed by the App)`;
    case 'inverse-diff':
      return `GitHub shows each of its ${e.files} file${e.files === 1 ? '' : 's'} exactly as before ${e.reverts.slice(0, 7)}, the commit it reverts`;
    case 'rollback':
      return `it deploys ${e.sha.slice(0, 7)}, which ${e.environment} ran before (deployment ${e.deployment_id})`;
  }
}
