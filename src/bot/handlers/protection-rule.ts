import { appendAuditEntry } from '../../github/audit-log.ts';
import { answerProtectionRule } from '../../github/deployment-status.ts';
import type { DeployEvent } from '../../github/gate-event.ts';
import { canLookFurther, type Gathered, gatherChange, gatherFurther } from '../../github/gather-change.ts';
import { blockUnrecorded, overrideAuditEntry, sameUse } from '../../policy/audit-entry.ts';
import { decide } from '../../policy/decide.ts';
import type { Decision } from '../../policy/decision-schema.ts';
import { planRequest } from '../../policy/plan.ts';
import type { TelemetryResult } from '../../policy/sample.ts';
import { renderHeadline } from '../../report/headline.ts';
import type { BotDeps, HandlerContext } from '../deps.ts';
import { parsePayload, protectionRulePayload } from '../payloads.ts';
import { policyAt } from '../policy-for.ts';

// deployment_protection_rule: GitHub holds a deployment to an environment that lists this app as a
// custom protection rule, and waits for our answer on the callback URL. The answer is the gate's
// own decision on what the deployment ships (the same gathering as the Action's deploy gate), so
// teams can gate an environment without editing workflows.

export type ProtectionAnswer = { state: 'approved' | 'rejected'; comment: string; decision: Decision | null };

export async function onProtectionRule(ctx: HandlerContext, deps: BotDeps): Promise<ProtectionAnswer> {
  const p = parsePayload(protectionRulePayload, ctx.payload, 'deployment_protection_rule');
  const repo = { owner: p.repository.owner.login, repo: p.repository.name };
  const answer = async (a: ProtectionAnswer) => {
    await answerProtectionRule(ctx.octokit, p.deployment_callback_url, {
      environment: p.environment,
      state: a.state,
      comment: a.comment,
    });
    ctx.log.info(
      `${repo.owner}/${repo.repo} deployment ${p.deployment.id} to ${p.environment}: ${a.state}: ${a.comment.split('\n')[0]}`,
    );
    return a;
  };

  const found = await policyAt(ctx.octokit, repo, deps.policyPath, p.deployment.sha);
  if (found.kind === 'none') {
    return answer({
      state: 'approved',
      comment: `budget-gate: no ${deps.policyPath} in this repository, nothing to enforce`,
      decision: null,
    });
  }
  if (found.kind === 'invalid') {
    // A policy nobody can read cannot say the budget is fine: fail closed, with the located problems.
    return answer({
      state: 'rejected',
      comment: `budget-gate: ${deps.policyPath} is invalid: ${found.message}`,
      decision: null,
    });
  }
  const policy = found.loaded.policy;
  if (!policy.environments.includes(p.environment)) {
    return answer({
      state: 'approved',
      comment: `budget-gate: ${p.environment} is not one of the policy's environments (${policy.environments.join(', ')})`,
      decision: null,
    });
  }

  const at = deps.clock();
  const event: DeployEvent = {
    kind: 'deploy',
    event: 'deployment',
    repo,
    head_sha: p.deployment.sha,
    before: null,
    environment: p.environment,
    deployment_id: p.deployment.id,
  };
  const telemetry = await deps.source
    .fetch(planRequest(policy, at, {}))
    .then((result): { result: TelemetryResult | null; error: string | null } => ({ result, error: null }))
    .catch((e: Error) => ({ result: null, error: e.message }));
  const decideWith = (g: Gathered) =>
    decide({
      policy,
      at,
      change: g.change,
      telemetry: { source: deps.source.name, ...telemetry },
      warnings: g.warnings,
    });

  let gathered = await gatherChange(ctx.octokit, event, p.environment);
  let decision = decideWith(gathered);
  if (!decision.allowed && canLookFurther(event, gathered)) {
    gathered = await gatherFurther(ctx.octokit, event, gathered, policy);
    decision = decideWith(gathered);
  }
  const entry = overrideAuditEntry(decision, {
    repo: `${repo.owner}/${repo.repo}`,
    pull_request: gathered.pull_request,
    sha: gathered.sha,
    author: gathered.change.author,
  });
  if (entry) {
    try {
      await appendAuditEntry(
        ctx.octokit,
        repo,
        policy.overrides.audit,
        { ...entry, source: 'bot' },
        { isDuplicate: sameUse(entry) },
      );
    } catch (e) {
      decision = blockUnrecorded(decision, (e as Error).message);
    }
  }

  const reasons = decision.reasons.map((r) => `- ${r.message}`);
  const comment = [`budget-gate: ${renderHeadline(decision)}`, ...reasons].join('\n');
  return answer({ state: decision.allowed ? 'approved' : 'rejected', comment, decision });
}
