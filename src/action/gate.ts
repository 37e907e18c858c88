import { evaluateChange } from '../gate/evaluate-change.ts';
import type { AppendResult } from '../github/audit-log.ts';
import { githubAuditSink } from '../github/audit-sink.ts';
import { githubChangeFacts } from '../github/change-facts.ts';
import { type CheckAnnotation, type CheckRunRef, createCheckRun } from '../github/checks.ts';
import { GitHubPermissionError } from '../github/errors.ts';
import type { Change } from '../policy/gate/change.ts';
import type { Decision } from '../policy/gate/decision-schema.ts';
import { formatProblem, type PolicyProblem } from '../policy/spec/load.ts';
import { renderHeadline } from '../report/headline.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { type GateEvent, readEvent } from './event.ts';
import type { GateDeps } from './gate-deps.ts';
import { GateSetupError } from './gate-setup-error.ts';
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
  /** The step fails: blocked under `mode: enforce`. */
  failed: boolean;
}

export { GateSetupError };

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

export async function runGate(deps: GateDeps): Promise<GateResult> {
  const { gh, inputs } = deps;
  const at = inputs.at ?? deps.now();
  const event = readEvent(deps.event);
  const resolved = await resolvePolicyOrReport(deps, event);
  const loaded = resolved.loaded;
  const policy = loaded.policy;
  const environment = resolved.environment;
  const source = await deps.openTelemetry(inputs, deps.workspace);

  const evaluation = await evaluateChange({
    loaded,
    at,
    source,
    facts: githubChangeFacts(gh, event, environment, policy, {
      ...(resolved.first ? { first: resolved.first } : {}),
      ...(resolved.at ? { policyFile: { path: resolved.path, inForce: loaded, at: resolved.at } } : {}),
    }),
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
  const check = await postCheck(
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
    check,
    failed,
  };
}

/**
 * The check run is the verdict a branch-protection rule can require. A token that may not write
 * checks (a fork's pull request, a job without `checks: write`) costs the check, not the decision:
 * the step's own status still carries it.
 */
async function postCheck(
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
