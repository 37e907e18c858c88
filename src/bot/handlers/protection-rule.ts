import { evaluateChange } from '../../gate/evaluate-change.ts';
import { githubAuditSink } from '../../github/audit-sink.ts';
import { githubChangeFacts } from '../../github/change-facts.ts';
import { answerProtectionRule } from '../../github/deployment-status.ts';
import type { DeployEvent } from '../../github/gate-event.ts';
import { policyAt } from '../../github/policy-file.ts';
import { parsePayload, protectionRulePayload } from '../../github/webhook-payloads.ts';
import type { Decision } from '../../policy/gate/decision-schema.ts';
import { renderHeadline } from '../../report/headline.ts';
import type { BotDeps, HandlerContext } from '../deps.ts';

// deployment_protection_rule: GitHub holds a deployment to an environment that lists this app as a
// custom protection rule, and waits for our answer on the callback URL. The answer is the gate's
// own decision on what the deployment ships, from the same pipeline the Action's deploy gate calls
// (src/gate/evaluate-change.ts), so teams can gate an environment without editing workflows.

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

  const event: DeployEvent = {
    kind: 'deploy',
    event: 'deployment',
    repo,
    head_sha: p.deployment.sha,
    before: null,
    environment: p.environment,
    deployment_id: p.deployment.id,
  };
  const { decision } = await evaluateChange({
    loaded: found.loaded,
    at: deps.clock(),
    source: deps.source,
    facts: githubChangeFacts(ctx.octokit, event, p.environment, policy),
    audit: githubAuditSink(ctx.octokit, repo, policy.overrides.audit, {
      warn: (m) => ctx.log.warn(m),
    }),
    repo: `${repo.owner}/${repo.repo}`,
    origin: 'bot',
  });

  const reasons = decision.reasons.map((r) => `- ${r.message}`);
  const actions = decision.actions.map((a) => `- → ${a}`);
  const warnings = decision.warnings.map((w) => `- warning: ${w}`);
  const comment = [`budget-gate: ${renderHeadline(decision)}`, ...reasons, ...actions, ...warnings].join(
    '\n',
  );
  return answer({ state: decision.allowed ? 'approved' : 'rejected', comment, decision });
}
