import { type Document, isMap, isNode, LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { maxRevertConsumed } from '../canary/assess.ts';
import { pct } from '../gate/explain.ts';
import { MAX_SHADOW_CHECKS, shadowedRiskRules } from '../gate/risk.ts';
import { oncallWarnings } from '../oncall/lint.ts';
import { didYouMean, knownKeysAt } from './known-keys.ts';
import { sanityProblems } from './sanity.ts';
import { type Policy, policySchema } from './schema.ts';

/** One located problem in a policy file: file:line:col, the key path, and what was expected. */
export interface PolicyProblem {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

export class PolicyError extends Error {
  readonly problems: PolicyProblem[];
  constructor(problems: PolicyProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'PolicyError';
    this.problems = problems;
  }
}

export interface LoadedPolicy {
  policy: Policy;
  /** About how the policy reads: every decision made with it carries them. */
  warnings: PolicyProblem[];
  /**
   * About how the policy is designed (a SOFT-PAUSE that holds nothing): `lint` says them; a
   * decision does not repeat them, since a team may mean it.
   */
  advice: PolicyProblem[];
}

export function formatProblem(p: PolicyProblem): string {
  return `${p.file}:${p.line}:${p.col}${p.path ? ` ${p.path}` : ''}: ${p.message}`;
}

/** `slos[0].sli.kind` */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const step of path) {
    out += typeof step === 'number' ? `[${step}]` : out === '' ? String(step) : `.${String(step)}`;
  }
  return out;
}

/** A policy is a page or two of YAML; past this it is not a policy, and parsing it costs memory. */
export const MAX_POLICY_BYTES = 1 << 20;
/** Alias expansions allowed: enough for real reuse, far too few for a "billion laughs" bomb. */
const MAX_ALIAS_COUNT = 100;

/** Parses and validates a policy. Pure: the caller reads the file and passes its text and name. */
/** Where a repository keeps its policy unless told otherwise. */
export const DEFAULT_POLICY_PATH = '.github/error-budget.yml';

export function loadPolicy(text: string, file: string): LoadedPolicy {
  if (text.length > MAX_POLICY_BYTES) {
    throw new PolicyError([
      {
        file,
        line: 1,
        col: 1,
        path: '',
        message: `the policy is ${text.length} characters long: at most ${MAX_POLICY_BYTES} (is this the right file?)`,
      },
    ]);
  }
  const lines = new LineCounter();
  const whole = (message: string) => new PolicyError([{ file, line: 1, col: 1, path: '', message }]);
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    // Deep nesting ([[[[…]]]]) overflows the parser's stack: a located refusal, not a crash.
    if (e instanceof RangeError) throw whole('YAML: nested too deeply to read');
    throw e;
  }
  const at = (offset: number) => {
    const pos = lines.linePos(offset);
    return { line: pos.line, col: pos.col };
  };

  if (doc.errors.length > 0) {
    throw new PolicyError(
      doc.errors.map((e) => ({ file, ...at(e.pos[0]), path: '', message: `YAML: ${firstLine(e.message)}` })),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (e instanceof ReferenceError) {
      // yaml refuses an alias bomb ("billion laughs") or an alias to an anchor that is not defined.
      throw new PolicyError([
        { file, ...firstAlias(doc, at), path: '', message: `YAML: ${firstLine(e.message)}` },
      ]);
    }
    if (e instanceof RangeError) throw whole('YAML: nested too deeply to read');
    throw e;
  }
  if (raw === null || raw === undefined) {
    throw new PolicyError([
      { file, line: 1, col: 1, path: '', message: 'the policy is empty: expected `version: 1` and `slos`' },
    ]);
  }

  // Without zod's JIT: a policy is parsed once per load, and compiling the fast path of each of
  // its ~40 object schemas (new Function) costs more than the one parse saves — the CLI's cold
  // start pays it on every run (docs/benchmarks.md).
  const parsed = policySchema.safeParse(raw, { jitless: true });
  if (!parsed.success) {
    throw new PolicyError(parsed.error.issues.flatMap((issue) => locateIssue(doc, file, at, issue)));
  }
  const policy = parsed.data;

  const problems: PolicyProblem[] = [];
  const seen = new Map<string, number>();
  policy.slos.forEach((slo, i) => {
    const first = seen.get(slo.name);
    if (first !== undefined) {
      problems.push({
        file,
        ...locate(doc, at, ['slos', i, 'name']),
        path: `slos[${i}].name`,
        message: `SLO name "${slo.name}" is already used by slos[${first}]: names must be unique`,
      });
    } else seen.set(slo.name, i);
  });
  for (const p of sanityProblems(policy)) {
    problems.push({ file, ...locate(doc, at, p.path), path: formatPath(p.path), message: p.message });
  }
  if (problems.length > 0) throw new PolicyError(problems);

  const shadowing = shadowedRiskRules(policy.risk);
  const warnings: PolicyProblem[] = shadowing.shadowed.map(({ rule, pattern, index, by }) => ({
    file,
    ...locate(doc, at, ['risk', 'rules', rule, 'paths', index]),
    path: `risk.rules[${rule}].paths[${index}]`,
    message: `"${pattern}" can never match: risk.rules[${by.rule}] ("${by.pattern}") matches every path it does, and the first match wins`,
  }));
  if (!shadowing.complete) {
    warnings.push({
      file,
      ...locate(doc, at, ['risk', 'rules']),
      path: 'risk.rules',
      message: `too many globs to check every pair for shadowing (stopped after ${MAX_SHADOW_CHECKS} comparisons): later rules may never match`,
    });
  }
  // A SOFT-PAUSE lets low-risk changes through: with nothing high-risk, it is no pause at all.
  const advice: PolicyProblem[] = [];
  if (policy.risk.default === 'low' && !policy.risk.rules.some((r) => r.class === 'high')) {
    advice.push({
      file,
      ...locate(doc, at, has(raw, 'risk') ? ['risk'] : []),
      path: 'risk',
      message:
        'SOFT-PAUSE can hold nothing: no risk rule is `high` and the default is `low`, so every change ships until HARD-PAUSE; add a high rule for prompt and model paths (e.g. paths: ["prompts/**", "models/**"], class: high)',
    });
  }
  if (policy.auto_revert.enabled) {
    const within = policy.auto_revert.within.ms;
    policy.slos.forEach((slo, i) => {
      const most = maxRevertConsumed(slo, within);
      if (most === null || most >= policy.auto_revert.consumed) return;
      warnings.push({
        file,
        ...locate(
          doc,
          at,
          has(raw, 'auto_revert', 'consumed') ? ['auto_revert', 'consumed'] : ['slos', i, 'target'],
        ),
        path: has(raw, 'auto_revert', 'consumed') ? 'auto_revert.consumed' : `slos[${i}].target`,
        message: `auto-revert can never fire for ${slo.name} by its share rule: even a total outage for ${policy.auto_revert.within} burns at most ${pct(most)} of its ${slo.window} budget at a ${pct(slo.target)} target, below auto_revert.consumed (${pct(policy.auto_revert.consumed)}); only the rate rule (auto_revert.burn_rate ${policy.auto_revert.burn_rate}x) can revert it. Lower auto_revert.consumed to about ${pct(most / 2)}`,
      });
    });
  }
  for (const w of oncallWarnings(policy.oncall)) {
    const path = ['oncall', ...w.path];
    warnings.push({ file, ...locate(doc, at, path), path: formatPath(path), message: w.message });
  }
  return { policy, warnings, advice };
}

function has(raw: unknown, ...keys: string[]): boolean {
  let v = raw;
  for (const k of keys) {
    if (typeof v !== 'object' || v === null || !(k in v)) return false;
    v = (v as Record<string, unknown>)[k];
  }
  return true;
}

const MISSING_HINT: Record<string, string> = {
  target: 'a target below 100%, such as 0.95 or "99.9%"',
  window: 'a rolling window such as 30d, or week or month',
  scope: 'the tasks this SLO covers: `all`, or attributes such as { tier: paid }',
  sli: 'the SLI, such as { kind: success } or { kind: latency, threshold_ms: 10000 }',
};

type At = (offset: number) => { line: number; col: number };

function locate(doc: Document, at: At, path: ReadonlyArray<PropertyKey>): { line: number; col: number } {
  // Walk up until a node with a position exists: a missing key is reported where its parent is.
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) return at(node.range[0]);
  }
  return { line: 1, col: 1 };
}

function locateIssue(doc: Document, file: string, at: At, issue: z.core.$ZodIssue): PolicyProblem[] {
  const path = issue.path;
  const pathText = formatPath(path);
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(policySchema, path);
    const parent = doc.getIn(path as unknown[], true);
    return issue.keys.map((key) => {
      let pos = locate(doc, at, path);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isNode(p.key) && (p.key as { value?: unknown }).value === key);
        if (pair && isNode(pair.key) && pair.key.range) pos = at(pair.key.range[0]);
      }
      const guess = didYouMean(key, known);
      const hint = guess ? `did you mean \`${guess}\`?` : `expected one of: ${known.join(', ')}`;
      return {
        file,
        ...pos,
        path: pathText ? `${pathText}.${key}` : key,
        message: `unknown key \`${key}\`: ${hint}`,
      };
    });
  }
  let message = issue.message;
  if (path.length > 0 && !doc.hasIn(path as unknown[])) {
    const key = String(path[path.length - 1]);
    const hint =
      MISSING_HINT[key] ??
      (issue.code === 'invalid_type' ? issue.message.replace(/, received undefined$/, '') : '');
    message = `missing required key \`${key}\`${hint ? ` (${hint})` : ''}`;
  } else if (
    issue.code === 'invalid_union' &&
    'note' in issue &&
    issue.note === 'No matching discriminator'
  ) {
    message = `${issue.message}: expected \`kind\` to be one of success, latency, cost`;
  }
  return [{ file, ...locate(doc, at, path), path: pathText, message }];
}

/** Where the first alias (`*name`) is: the place to look when yaml refuses to expand them. */
function firstAlias(doc: Document, at: At): { line: number; col: number } {
  let found: { line: number; col: number } | null = null;
  visit(doc, {
    Alias(_key, node) {
      if (node.range) found = at(node.range[0]);
      return visit.BREAK;
    },
  });
  return found ?? { line: 1, col: 1 };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
