import { evaluateChange } from '../../gate/evaluate-change.ts';
import { githubAuditSink } from '../../github/audit-sink.ts';
import { githubChangeFacts } from '../../github/change-facts.ts';
import { answerProtectionRule } from '../../github/deployment-status.ts';
import { statusOf } from '../../github/errors.ts';
import type { DeployEvent } from '../../github/gate-event.ts';
import type { RepoRef } from '../../github/octokit.ts';
import { policyAt } from '../../github/policy-file.ts';
import { deployPolicyInForce, describeInForce } from '../../github/policy-in-force.ts';
import { parsePayload, protectionRulePayload } from '../../github/webhook-payloads.ts';
import type { Decision } from '../../policy/gate/decision-schema.ts';
import { renderHeadline } from '../../report/headline.ts';
import type { BotDeps, HandlerContext } from '../deps.ts';

// deployment_protection_rule: GitHub holds a deployment to an environment that lists this app as a
// custom protection rule, and waits for our answer on the callback URL. The answer is the gate's
// own decision on what the deployment ships, from the same pipeline the Action's deploy gate calls
// (src/gate/evaluate-change.ts), so teams can gate an environment without editing workflows.

type ProtectionRulePayload = ReturnType<typeof protectionRulePayload.parse>;

export type ProtectionAnswer = { state: 'approved' | 'rejected'; comment: string; decision: Decision | null };

export async function onProtectionRule(ctx: HandlerContext, deps: BotDeps): Promise<ProtectionAnswer> {
  const p = parsePayload(protectionRulePayload, ctx.payload, 'deployment_protection_rule');
  const repo = { owner: p.repository.owner.login, repo: p.repository.name };
  const answer = async (a: ProtectionAnswer) => {
    try {
      await answerProtectionRule(ctx.octokit, p.deployment_callback_url, {
        environment: p.environment,
        state: a.state,
        comment: a.comment,
      });
    } catch (e) {
      const status = statusOf(e);
      // GitHub refusing the answer itself (already answered, no longer waiting) is final: asking
      // again would be refused again. Anything else fails the delivery, to be recovered.
      if (status === null || status < 400 || status >= 500 || status === 429) throw e;
      ctx.log.warn(
        `${repo.owner}/${repo.repo} deployment ${p.deployment.id}: GitHub refused the answer (${status}): ${(e as Error).message.split('\n')[0]}`,
      );
      return a;
    }
    ctx.log.info(
      `${repo.owner}/${repo.repo} deployment ${p.deployment.id} to ${p.environment}: ${a.state}: ${a.comment.split('\n')[0]}`,
    );
    return a;
  };

  let verdict: ProtectionAnswer;
  try {
    verdict = await judge(ctx, deps, p, repo);
  } catch (e) {
    // Never leave a deployment waiting for a person: an evaluation that fails rejects, with why.
    const why = (e as Error).message.split('\n')[0]!.slice(0, 500);
    ctx.log.error(`${repo.owner}/${repo.repo} deployment ${p.deployment.id}: the gate failed: ${why}`);
    verdict = {
      state: 'rejected',
      comment: `budget-gate could not evaluate this deployment, so it is not approved: ${why}. Deploy again once the cause is fixed.`,
      decision: null,
    };
  }
  // An answer GitHub does not take fails the delivery, so it is recovered (redeliver.ts, pending.ts).
  return answer(verdict);
}

async function judge(
  ctx: HandlerContext,
  deps: BotDeps,
  p: ProtectionRulePayload,
  repo: RepoRef,
): Promise<ProtectionAnswer> {
  const event: DeployEvent = {
    kind: 'deploy',
    event: 'deployment',
    repo,
    head_sha: p.deployment.sha,
    before: null,
    environment: p.environment,
    deployment_id: p.deployment.id,
  };
  // The policy of what the environment runs now judges the deploy, never the deploy's own copy.
  const { inForce, first } = await deployPolicyInForce(ctx.octokit, event, p.environment, deps.policyPath);
  const where = describeInForce(inForce);
  let found = inForce.lookup;
  let policyFile = true;
  const warnings: string[] = [];
  if (found.kind === 'none') {
    // Nothing in force: the deploy introduces the policy (or there is none at all).
    found = await policyAt(ctx.octokit, repo, deps.policyPath, p.deployment.sha);
    policyFile = false;
    if (found.kind === 'ok')
      warnings.push(
        `no ${deps.policyPath} at ${where}: this deploy introduces the policy, so its own copy judges it`,
      );
  }
  if (found.kind === 'none') {
    return {
      state: 'approved',
      comment: `budget-gate: no ${deps.policyPath} at ${where} nor in the deployed ${p.deployment.sha.slice(0, 7)}, nothing to enforce`,
      decision: null,
    };
  }
  if (found.kind === 'invalid') {
    // A policy nobody can read cannot say the budget is fine: fail closed, with the located problems.
    return {
      state: 'rejected',
      comment: `budget-gate: ${deps.policyPath} at ${policyFile ? where : p.deployment.sha.slice(0, 7)} is invalid: ${found.message}`,
      decision: null,
    };
  }
  const policy = found.loaded.policy;
  if (!policy.environments.includes(p.environment)) {
    return {
      state: 'approved',
      comment: `budget-gate: ${p.environment} is not one of the environments of the policy in force (${policy.environments.join(', ')}; at ${where})`,
      decision: null,
    };
  }

  const { decision } = await evaluateChange({
    loaded: found.loaded,
    at: deps.clock(),
    source: deps.source,
    facts: githubChangeFacts(ctx.octokit, event, p.environment, policy, {
      first,
      ...(policyFile && inForce.at
        ? { policyFile: { path: deps.policyPath, inForce: found.loaded, at: inForce.at } }
        : {}),
    }),
    audit: githubAuditSink(ctx.octokit, repo, policy.overrides.audit, {
      warn: (m) => ctx.log.warn(m),
    }),
    repo: `${repo.owner}/${repo.repo}`,
    origin: 'bot',
    warnings,
  });

  const reasons = decision.reasons.map((r) => `- ${r.message}`);
  const actions = decision.actions.map((a) => `- → ${a}`);
  const notes = decision.warnings.map((w) => `- warning: ${w}`);
  const comment = [`budget-gate: ${renderHeadline(decision)}`, ...reasons, ...actions, ...notes].join('\n');
  return { state: decision.allowed ? 'approved' : 'rejected', comment, decision };
}
