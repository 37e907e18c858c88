import picomatch from 'picomatch';
import type { Policy, RiskClass } from '../spec/schema.ts';
import type { Change, RevertEvidence } from './change.ts';

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

// A glob is a regular expression that backtracks: `**/*a*a*a*b` against one long file name takes
// minutes, and file names come from whoever opens the pull request. The policy's globs are bounded
// when it loads (globProblem), and paths beyond what a checkout can hold are not matched at all:
// together they keep one match to milliseconds at worst (bench/ measures it).

/** Longest path and path segment matched against the rules; GitHub and every file system stay below. */
export const MAX_PATH_LENGTH = 1024;
const MAX_SEGMENT_LENGTH = 255;
const MAX_PATTERN_LENGTH = 256;
/** `*` wildcards in one segment; each one multiplies the worst-case backtracking by the segment length. */
const MAX_STARS_PER_SEGMENT = 2;
/** `**` in one pattern; each one multiplies it by the path's depth. */
const MAX_GLOBSTARS = 2;
const MAX_WILDCARDS = 4;
const MAX_BRACES = 4;
/** Pattern × path evaluations for one change: past it the rest of the files count as high risk. */
export const MAX_MATCHES = 2_000_000;
/** Risk globs in a whole policy (all rules together): the match budget counts each pattern. */
export const MAX_RISK_PATTERNS = 1000;

/** Why a risk glob could take too long to match, in words; null when it is within bounds. */
export function globProblem(pattern: string): string | null {
  if (pattern.length > MAX_PATTERN_LENGTH)
    return `a glob of ${pattern.length} characters: at most ${MAX_PATTERN_LENGTH}`;
  if (/[*+?@!]\(/.test(pattern))
    return 'extended globs such as *(…) or +(…) can take minutes to match one long path: list the alternatives with {a,b} instead';
  const braces = (pattern.match(/\{/g) ?? []).length;
  if (braces > MAX_BRACES) return `${braces} {…} groups: at most ${MAX_BRACES}`;
  let globstars = 0;
  let wildcards = 0;
  for (const segment of pattern.split('/')) {
    if (segment === '**') {
      globstars++;
      wildcards++;
      continue;
    }
    const stars = (segment.match(/\*+/g) ?? []).length;
    wildcards += stars;
    if (stars > MAX_STARS_PER_SEGMENT)
      return `${stars} \`*\` in the segment "${clip(segment)}": at most ${MAX_STARS_PER_SEGMENT}, or one long file name can take minutes to match`;
  }
  if (globstars > MAX_GLOBSTARS)
    return `${globstars} \`**\`: at most ${MAX_GLOBSTARS}, or one deep path can take minutes to match`;
  if (wildcards > MAX_WILDCARDS) return `${wildcards} wildcards: at most ${MAX_WILDCARDS}`;
  return null;
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** A path no checkout can hold is not matched against globs: it is as risky as it gets. */
function unmatchable(path: string): boolean {
  if (path.length > MAX_PATH_LENGTH) return true;
  let start = 0;
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', start)) {
    if (i - start > MAX_SEGMENT_LENGTH) return true;
    start = i + 1;
  }
  return path.length - start > MAX_SEGMENT_LENGTH;
}

/** First matching rule wins per file; the change is as risky as its riskiest file. */
export function classifyRisk(risk: RiskPolicy, files: string[]): RiskAssessment {
  // Compiled on first use: a change that touches few files never pays for thousands of globs.
  const compiled: Array<((p: string) => boolean) | undefined> = [];
  const matchers = risk.rules.map((rule, i) => (path: string) => {
    compiled[i] ??= picomatch(rule.paths, GLOB);
    return compiled[i](path);
  });
  const patternsUpTo: number[] = [];
  let totalPatterns = 0;
  for (const rule of risk.rules) {
    totalPatterns += Math.max(1, rule.paths.length);
    patternsUpTo.push(totalPatterns);
  }
  const out: RiskFile[] = [];
  let overall: RiskClass = 'low';
  let budget = MAX_MATCHES;
  for (const path of files) {
    let cls: RiskClass;
    let rule: string;
    if (unmatchable(path)) {
      cls = 'high';
      rule = `not classified: a path longer than ${MAX_PATH_LENGTH} characters (or a name longer than ${MAX_SEGMENT_LENGTH})`;
    } else if (budget <= 0) {
      cls = 'high';
      rule = `not classified: the change has more files than ${MAX_MATCHES} glob matches cover`;
    } else {
      const index = matchers.findIndex((m) => m(path));
      // Each pattern of each rule tried counts: one rule may hold many patterns.
      budget -= index >= 0 ? patternsUpTo[index]! : totalPatterns;
      cls = index >= 0 ? risk.rules[index]!.class : risk.default;
      rule = index >= 0 ? `risk.rules[${index}]` : 'risk.default';
    }
    out.push({ path, class: cls, rule });
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
 * Work the shadowing check may do (a matcher call is 1, compiling a glob 25, about what each
 * costs): it is advice, and must not cost seconds on every load.
 */
export const MAX_SHADOW_CHECKS = 100_000;
const COMPILE_COST = 25;

/**
 * Later patterns an earlier rule already covers. Glob containment is undecidable in general; this
 * catches the common case: the later pattern, read as a path, is matched by an earlier pattern
 * (`prompts/**` shadows `prompts/*.md`), or is the same pattern again. An earlier glob can only
 * match a path under its literal base, so only those are tried, each compiled once; `complete` is
 * false when a policy has so many globs that the check stopped early.
 */
export function shadowedRiskRules(risk: RiskPolicy): { shadowed: ShadowedPattern[]; complete: boolean } {
  const out: ShadowedPattern[] = [];
  /** Exact patterns seen so far → where first. */
  const exact = new Map<string, { rule: number; pattern: string }>();
  /** Earlier globs by literal base ('' for none), compiled when first compared. */
  const byBase = new Map<
    string,
    Array<{ rule: number; pattern: string; match: ((p: string) => boolean) | null }>
  >();
  let checks = 0;
  let complete = true;
  /** The earlier pattern that covers `pattern`, if one is found within the budget. */
  const shadowOf = (pattern: string, r: number): { rule: number; pattern: string } | null => {
    const same = exact.get(pattern);
    if (same !== undefined && same.rule < r) return same;
    for (const base of basesOf(pattern)) {
      for (const g of byBase.get(base) ?? []) {
        if (g.match === null) {
          checks += COMPILE_COST;
          g.match = picomatch(g.pattern, GLOB);
        }
        if (++checks > MAX_SHADOW_CHECKS) {
          complete = false;
          return null;
        }
        if (g.match(pattern)) return { rule: g.rule, pattern: g.pattern };
      }
    }
    return null;
  };
  risk.rules.forEach((rule, r) => {
    const added: Array<[string, { rule: number; pattern: string }]> = [];
    rule.paths.forEach((pattern, index) => {
      const by = shadowOf(pattern, r);
      if (by) out.push({ rule: r, index, pattern, by });
    });
    rule.paths.forEach((pattern) => {
      if (!exact.has(pattern)) added.push([pattern, { rule: r, pattern }]);
    });
    for (const [pattern, at] of added) {
      exact.set(pattern, at);
      const scan = picomatch.scan(pattern);
      if (!scan.isGlob) continue;
      const list = byBase.get(scan.base) ?? [];
      list.push({ ...at, match: null });
      byBase.set(scan.base, list);
    }
  });
  return { shadowed: out, complete };
}

/** '' and every directory prefix of `path`, and `path` itself: the literal bases that can match it. */
function basesOf(path: string): string[] {
  const out = [''];
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  out.push(path);
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
