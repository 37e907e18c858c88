import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { type AppendResult, appendAuditEntry } from '../github/audit-log.ts';
import { type CheckAnnotation, type CheckRunRef, createCheckRun } from '../github/checks.ts';
import { GitHubPermissionError } from '../github/errors.ts';
import { canLookFurther, type Gathered, gatherChange, gatherFurther } from '../github/gather-change.ts';
import type { GitHubClient, RequestCounter } from '../github/octokit.ts';
import { blockUnrecorded, overrideAuditEntry, sameUse } from '../policy/audit-entry.ts';
import { decide } from '../policy/decide.ts';
import type { Decision } from '../policy/decision-schema.ts';
import {
  formatProblem,
  type LoadedPolicy,
  loadPolicy,
  PolicyError,
  type PolicyProblem,
} from '../policy/load.ts';
import { planRequest } from '../policy/plan.ts';
import type { TelemetryResult, TelemetrySource } from '../policy/sample.ts';
import type { Policy } from '../policy/schema.ts';
import { renderHeadline } from '../report/headline.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { type EventContext, type GateEvent, readEvent } from './event.ts';
import type { Inputs } from './inputs.ts';

// One decision, start to finish: policy → (change ∥ telemetry) → decide → (overrides, if blocked)
// → audit → check run. Everything outside (env, clock, GitHub, telemetry) comes in as deps, so the
// tests drive this with nock and the entry point stays a few lines.

/** Burn-chart resolution: points per SLO window. */
const CHART_POINTS = 24;

export interface GateLog {
  info(message: string): void;
  warning(message: string): void;
}

export interface GateDeps {
  gh: GitHubClient;
  counter: RequestCounter;
  inputs: Inputs;
  event: EventContext;
  workspace: string;
  now: () => number;
  openTelemetry: (inputs: Inputs, loaded: LoadedPolicy, workspace: string) => TelemetrySource;
  log: GateLog;
  auditSleep?: (ms: number) => Promise<void>;
}

export interface GateResult {
  /** The policy's warnings (e.g. a shadowed risk glob), each on its line. */
  policyWarnings: PolicyProblem[];
  decision: Decision;
  headline: string;
  markdown: string;
  audit: AppendResult | null;
  auditBranch: string;
  auditPath: string;
  check: CheckRunRef | null;
  /** The step fails: blocked under `mode: enforce`. */
  failed: boolean;
}

/** A problem with the setup (no policy, a malformed one, a bad input): the step fails in any mode. */
export class GateSetupError extends Error {
  readonly problems: PolicyProblem[];
  constructor(message: string, problems: PolicyProblem[] = []) {
    super(message);
    this.name = 'GateSetupError';
    this.problems = problems;
  }
}

export async function readPolicy(workspace: string, file: string): Promise<LoadedPolicy> {
  const path = isAbsolute(file) ? file : join(workspace, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new GateSetupError(
        `no policy file at ${file}: add one (see examples/ in the budget-gate repository), set the \`policy\` ` +
          'input to where it is, or add `actions/checkout` before this step',
      );
    }
    throw e;
  }
  try {
    return loadPolicy(text, file);
  } catch (e) {
    if (e instanceof PolicyError) throw new GateSetupError(`invalid policy:\n${e.message}`, e.problems);
    throw e;
  }
}

/**
 * A policy that does not load fails the step in any mode; the check run carries the problems as
 * annotations on the lines at fault, so a required check says why it failed.
 */
async function readPolicyOrReport(deps: GateDeps, event: GateEvent): Promise<LoadedPolicy> {
  try {
    return await readPolicy(deps.workspace, deps.inputs.policy);
  } catch (e) {
    if (e instanceof GateSetupError && e.problems.length > 0) {
      const n = e.problems.length;
      // The policy's problems are the news: a check run GitHub refuses must not replace them.
      await postCheck(
        deps,
        event,
        {
          title: `invalid policy: ${n} problem${n === 1 ? '' : 's'} in ${deps.inputs.policy}`,
          summary: e.problems.map((p) => `- \`${formatProblem(p)}\``).join('\n'),
          annotations: problemAnnotations(e.problems, 'failure'),
        },
        'failure',
      ).catch((err: unknown) => deps.log.warning(`could not post the check run: ${(err as Error).message}`));
    }
    throw e;
  }
}

async function fetchTelemetry(
  source: TelemetrySource,
  loaded: LoadedPolicy,
  at: number,
): Promise<{ result: TelemetryResult | null; error: string | null }> {
  try {
    return {
      result: await source.fetch(planRequest(loaded.policy, at, { series: CHART_POINTS, quantiles: true })),
      error: null,
    };
  } catch (e) {
    return { result: null, error: (e as Error).message };
  }
}

export async function runGate(deps: GateDeps): Promise<GateResult> {
  const { gh, inputs } = deps;
  const at = inputs.at ?? deps.now();
  const event = readEvent(deps.event);
  const loaded = await readPolicyOrReport(deps, event);
  const policy = loaded.policy;
  const policyWarnings = loaded.warnings.map((w) => `${w.file}:${w.line}:${w.col} ${w.path}: ${w.message}`);
  const environment =
    inputs.environment ?? (event.kind === 'deploy' ? event.environment : null) ?? policy.environments[0]!;
  const source = deps.openTelemetry(inputs, loaded, deps.workspace);

  const [first, telemetry] = await Promise.all([
    gatherChange(gh, event, environment),
    fetchTelemetry(source, loaded, at),
  ]);
  const decideWith = (g: Gathered) =>
    decide({
      policy,
      at,
      change: g.change,
      telemetry: { source: source.name, ...telemetry },
      warnings: [...policyWarnings, ...g.warnings],
    });

  let gathered = first;
  let decision = decideWith(gathered);
  if (!decision.allowed && canLookFurther(event, gathered)) {
    gathered = await gatherFurther(gh, event, gathered, policy);
    decision = decideWith(gathered);
  } else if (decision.allowed && gathered.override_labels.length > 0) {
    decision = {
      ...decision,
      warnings: [
        ...decision.warnings,
        `${gathered.override_labels.map((l) => `\`${l}\``).join(', ')} not needed: the change is allowed without an override`,
      ],
    };
  }

  const audit = await recordOverride(deps, policy, event, gathered, decision);
  if (audit.error) decision = blockUnrecorded(decision, audit.error);

  const headline = renderHeadline(decision);
  const markdown = renderMarkdown(decision, { workspace: deps.workspace });
  const failed = !decision.allowed && inputs.mode === 'enforce';
  const conclusion = decision.allowed ? 'success' : failed ? 'failure' : 'neutral';
  const annotations = problemAnnotations(loaded.warnings, 'warning');
  const check = await postCheck(
    deps,
    event,
    { title: headline, summary: markdown, ...(annotations.length ? { annotations } : {}) },
    conclusion,
  );
  return {
    policyWarnings: loaded.warnings,
    decision,
    headline,
    markdown,
    audit: audit.result,
    auditBranch: policy.overrides.audit.branch,
    auditPath: policy.overrides.audit.path,
    check,
    failed,
  };
}

async function recordOverride(
  deps: GateDeps,
  policy: Policy,
  event: GateEvent,
  gathered: Gathered,
  decision: Decision,
): Promise<{ result: AppendResult | null; error: string | null }> {
  const entry = overrideAuditEntry(decision, {
    repo: `${event.repo.owner}/${event.repo.repo}`,
    pull_request: gathered.pull_request,
    sha: gathered.sha,
    author: gathered.change.author,
  });
  if (!entry) return { result: null, error: null };
  try {
    const result = await appendAuditEntry(deps.gh, event.repo, policy.overrides.audit, entry, {
      isDuplicate: sameUse(entry),
      ...(deps.auditSleep ? { sleep: deps.auditSleep } : {}),
    });
    return { result, error: null };
  } catch (e) {
    const error =
      e instanceof GitHubPermissionError
        ? `GitHub answered ${e.status}: the token needs \`${e.permission}\``
        : (e as Error).message;
    deps.log.warning(`audit log: ${(e as Error).message}`);
    return { result: null, error };
  }
}

/**
 * The check run is the verdict a branch-protection rule can require. A token that may not write
 * checks (a fork's pull request, a job without `checks: write`) costs the check, not the decision:
 * the step's own status still carries it.
 */
export async function postCheck(
  deps: Pick<GateDeps, 'gh' | 'inputs' | 'log'>,
  event: GateEvent,
  output: { title: string; summary: string; annotations?: CheckAnnotation[] },
  conclusion: 'success' | 'failure' | 'neutral',
): Promise<CheckRunRef | null> {
  const name = deps.inputs['check-name'];
  if (!name) return null;
  try {
    return await createCheckRun(deps.gh, event.repo, { name, head_sha: event.head_sha, conclusion, output });
  } catch (e) {
    if (!(e instanceof GitHubPermissionError)) throw e;
    deps.log.warning(`${e.message} The decision stands; only the \`${name}\` check run is missing.`);
    return null;
  }
}

/** Check-run annotations for a policy's problems, so a pull request shows them on the lines at fault. */
export function problemAnnotations(
  problems: readonly PolicyProblem[],
  level: 'failure' | 'warning',
): CheckAnnotation[] {
  return problems.map((p) => ({
    path: p.file,
    start_line: p.line,
    end_line: p.line,
    annotation_level: level,
    title: p.path ? `budget-gate: ${p.path}` : 'budget-gate policy',
    message: p.message,
  }));
}
