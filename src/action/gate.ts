import { evaluateChange } from '../gate/evaluate-change.ts';
import type { AppendResult } from '../github/audit-log.ts';
import { githubAuditSink } from '../github/audit-sink.ts';
import { githubChangeFacts } from '../github/change-facts.ts';
import { type CheckAnnotation, type CheckRunRef, createCheckRun } from '../github/checks.ts';
import { GitHubPermissionError, isGitHubFailure } from '../github/errors.ts';
import type { Change } from '../policy/gate/change.ts';
import type { Decision } from '../policy/gate/decision-schema.ts';
import { formatProblem, type PolicyProblem } from '../policy/spec/load.ts';
import { renderHeadline } from '../report/headline.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { describeFailure, type GateEvent, readEvent } from './event.ts';
import { failureMarkdown, GateFailure, guardedFacts } from './failure.ts';
import type { GateDeps } from './gate-deps.ts';
import { GateSetupError } from './gate-setup-error.ts';
import { InputError } from './inputs.ts';
import { inForceSection, ownVerdict } from './own-policy.ts';
import { type ResolvedPolicy, resolvePolicy } from './policy-in-force.ts';

// The Action's surface of the one gate pipeline (src/gate/evaluate-change.ts): find the policy in
// force (policy-in-force.ts) and read the event, hand GitHub's facts to the pipeline, render the decision as a check run. Everything
// outside (env, clock, GitHub, telemetry) comes in as deps, so the tests drive this with nock.

export type { GateDeps } from './gate-deps.ts';

export interface GateResult {
  /** The policy's warnings (e.g. a shadowed risk glob), each on its line. */
  policyWarnings: PolicyProblem[];
  decision: Decision;
  /** The change facts the decision was made on: \`budget-gate evaluate --change\` replays them. */
  change: Change;
  headline: string;
  markdown: string;
  audit: AppendResult | null;
  auditBranch: string;
  auditPath: string;
  check: CheckRunRef | null;
  /** Why there is no check run although one was asked for (GitHub refused or failed it). */
  checkError: string | null;
  /** GitHub calls that failed while looking for what could let the change through: the decision says so. */
  githubFailures: string[];
  /** The step fails: blocked under `mode: enforce`. */
  failed: boolean;
}

export { GateFailure, GateSetupError };

/**
 * A policy that does not load fails the step in any mode; the check run carries the problems as
 * annotations on the lines at fault, so a required check says why it failed.
 */
async function resolvePolicyOrReport(deps: GateDeps, event: GateEvent): Promise<ResolvedPolicy> {
  try {
    return await resolvePolicy(deps, event);
  } catch (e) {
    if (e instanceof GateSetupError && e.problems.length > 0) {
      const n = e.problems.length;
      // The policy's problems are the news: a check run GitHub refuses must not replace them.
      const posted = await postCheck(
        deps,
        event,
        {
          title: `invalid policy: ${n} problem${n === 1 ? '' : 's'} in ${deps.inputs.policy}`,
          summary: e.problems.map((p) => `- \`${formatProblem(p)}\``).join('\n'),
          annotations: problemAnnotations(e.problems, 'failure'),
        },
        'failure',
      );
      const problems = e.problems.map((p) => `- \`${formatProblem(p)}\``).join('\n');
      throw new GateFailure(e.message, failureMarkdown(`${e.message}\n\n${problems}`, posted.error ?? ''), e);
    }
    throw e;
  }
}

/**
 * The gate on one event. Whatever stops it before it decides (GitHub refusing or failing a call,
 * a policy that does not load) still leaves a failed check run with the reason, and a GateFailure
 * carrying the job summary: a blocked author sees why without opening the log.
 */
export async function runGate(deps: GateDeps): Promise<GateResult> {
  const event = readEvent(deps.event);
  try {
    return await gateEvent(deps, event);
  } catch (e) {
    if (e instanceof GateFailure) throw e;
    const message = e instanceof GateSetupError || e instanceof InputError ? e.message : describeFailure(e);
    const posted = await postCheck(
      deps,
      event,
      { title: `budget-gate could not decide: ${clip(message, 200)}`, summary: failureMarkdown(message) },
      'failure',
    );
    throw new GateFailure(message, failureMarkdown(message, posted.error ?? ''), e);
  }
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

async function gateEvent(deps: GateDeps, event: GateEvent): Promise<GateResult> {
  const { gh, inputs } = deps;
  const at = inputs.at ?? deps.now();
  const resolved = await resolvePolicyOrReport(deps, event);
  const loaded = resolved.loaded;
  const policy = loaded.policy;
  const environment = resolved.environment;
  const source = await deps.openTelemetry(inputs, deps.workspace);

  const githubFailures: string[] = [];
  const evaluation = await evaluateChange({
    loaded,
    at,
    source,
    facts: guardedFacts(
      githubChangeFacts(gh, event, environment, policy, {
        ...(resolved.first ? { first: resolved.first } : {}),
        ...(resolved.at ? { policyFile: { path: resolved.path, inForce: loaded, at: resolved.at } } : {}),
      }),
      githubFailures,
    ),
    audit: githubAuditSink(gh, event.repo, policy.overrides.audit, {
      ...(deps.auditSleep ? { sleep: deps.auditSleep } : {}),
      warn: deps.log.warning,
    }),
    repo: `${event.repo.owner}/${event.repo.repo}`,
    origin: 'action',
    warnings: resolved.warnings,
  });
  const { decision, change, audit } = evaluation;

  const headline = renderHeadline(decision);
  const markdown =
    renderMarkdown(decision, { workspace: deps.workspace }) +
    inForceSection(resolved, resolved.path, ownVerdict(resolved, evaluation, at, source.name));
  const failed = !decision.allowed && inputs.mode === 'enforce';
  const conclusion = decision.allowed ? 'success' : failed ? 'failure' : 'neutral';
  const annotations = problemAnnotations(loaded.warnings, 'warning');
  const posted = await postCheck(
    deps,
    event,
    { title: headline, summary: markdown, ...(annotations.length ? { annotations } : {}) },
    conclusion,
  );
  return {
    policyWarnings: loaded.warnings,
    decision,
    change,
    headline,
    markdown,
    audit: audit.written,
    auditBranch: policy.overrides.audit.branch,
    auditPath: policy.overrides.audit.path,
    check: posted.check,
    checkError: posted.error,
    githubFailures,
    failed,
  };
}

/**
 * The check run is the verdict a branch-protection rule can require. A token that may not write
 * checks (a fork's pull request, a job without `checks: write`) or GitHub failing the call costs
 * the check, not the decision: the step's own status and the job summary still carry it, and the
 * summary says the check is missing and why.
 */
async function postCheck(
  deps: Pick<GateDeps, 'gh' | 'inputs' | 'log'>,
  event: GateEvent,
  output: { title: string; summary: string; annotations?: CheckAnnotation[] },
  conclusion: 'success' | 'failure' | 'neutral',
): Promise<{ check: CheckRunRef | null; error: string | null }> {
  const name = deps.inputs['check-name'];
  if (!name) return { check: null, error: null };
  try {
    const check = await createCheckRun(deps.gh, event.repo, {
      name,
      head_sha: event.head_sha,
      conclusion,
      output,
    });
    return { check, error: null };
  } catch (e) {
    if (!isGitHubFailure(e)) throw e;
    const why =
      e instanceof GitHubPermissionError
        ? `${e.message} The decision stands; only the \`${name}\` check run is missing.`
        : `The \`${name}\` check run could not be posted: ${describeFailure(e)}. The decision stands; only the check run is missing.`;
    deps.log.warning(why);
    return { check: null, error: why };
  }
}

/** Check-run annotations for a policy's problems, so a pull request shows them on the lines at fault. */
function problemAnnotations(
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
