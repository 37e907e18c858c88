import { fetchPullsForCommits } from '../../github/commit-pulls.ts';
import { fetchLastSuccessfulDeployment } from '../../github/deploy-diff.ts';
import { firstParentOf, watchPolicy } from '../../github/policy-in-force.ts';
import { deploymentStatusPayload, parsePayload } from '../../github/webhook-payloads.ts';
import type { NewWatch } from '../../policy/canary/ports.ts';
import type { BotDeps, HandlerContext } from '../deps.ts';

// deployment_status: a deployment to a watched environment went live. Record what the watcher
// needs (the deployed and previous shas, the time, the policy in force — never a looser copy the
// deploy carries — and the pull request that shipped it) and leave the rest to the watcher. The store's key is the deployment id, so a
// redelivered webhook finds its watch and adds nothing.

export type DeploymentStatusOutcome =
  | { kind: 'ignored'; reason: string }
  | { kind: 'duplicate'; deployment_id: number }
  | { kind: 'watching'; deployment_id: number; superseded: number };

export async function onDeploymentStatus(
  ctx: HandlerContext,
  deps: BotDeps,
): Promise<DeploymentStatusOutcome> {
  const p = parsePayload(deploymentStatusPayload, ctx.payload, 'deployment_status');
  const repo = { owner: p.repository.owner.login, repo: p.repository.name };
  const id = p.deployment.id;
  const env = p.deployment_status.environment ?? p.deployment.environment;
  const name = `${repo.owner}/${repo.repo} deployment ${id} to ${env}`;
  const ignore = (reason: string): DeploymentStatusOutcome => {
    ctx.log.info(`${name}: not watched: ${reason}`);
    return { kind: 'ignored', reason };
  };
  if (p.deployment_status.state !== 'success')
    return ignore(`status is ${p.deployment_status.state}, not success`);
  if (await deps.store.get(id)) {
    ctx.log.info(`${name}: already watched (redelivery)`);
    return { kind: 'duplicate', deployment_id: id };
  }

  // What the environment ran before this deploy is the policy in force; a first deploy has the
  // deployed commit's parent stand in (src/github/policy-in-force.ts).
  const previous = await fetchLastSuccessfulDeployment(ctx.octokit, repo, env, { excludeId: id });
  const inForce = previous?.sha ?? (await firstParentOf(ctx.octokit, repo, p.deployment.sha));
  const found = await watchPolicy(ctx.octokit, repo, deps.policyPath, {
    deployed: p.deployment.sha,
    inForce,
    inForceSource: previous ? 'deployment' : 'parent',
  });
  if (found.kind === 'none') return ignore(found.why);
  if (found.kind === 'invalid') {
    ctx.log.warn(`${name}: the policy is invalid, so nothing can be judged: ${found.message}`);
    return { kind: 'ignored', reason: `invalid policy: ${found.message}` };
  }
  if (found.note) ctx.log.warn(`${name}: ${found.note}`);
  const policy = found.loaded.policy;
  if (!policy.environments.includes(env)) {
    return ignore(`${env} is not in the policy's environments (${policy.environments.join(', ')})`);
  }
  if (!policy.auto_revert.enabled) return ignore('auto_revert.enabled is false');

  const { pulls } = await fetchPullsForCommits(ctx.octokit, repo, [p.deployment.sha], 1);
  const shipped = pulls.find((pr) => pr.merged_at !== null) ?? pulls[0] ?? null;
  const deployedAt = Date.parse(p.deployment_status.created_at);
  const watch: NewWatch = {
    deployment_id: id,
    owner: repo.owner,
    repo: repo.repo,
    installation_id: p.installation.id,
    environment: env,
    sha: p.deployment.sha,
    previous_sha: previous?.sha ?? null,
    previous_deployment_id: previous?.id ?? null,
    default_branch: p.repository.default_branch,
    deployed_at: Number.isNaN(deployedAt) ? deps.clock() : deployedAt,
    pull_number: shipped?.number ?? null,
    pull_title: shipped?.title ?? null,
    policy_text: found.text,
    policy_path: deps.policyPath,
  };
  const now = deps.clock();
  if (!(await deps.store.add(watch, now))) {
    ctx.log.info(`${name}: already watched (a concurrent delivery recorded it first)`);
    return { kind: 'duplicate', deployment_id: id };
  }
  const superseded = await deps.store.supersede(watch, now);
  ctx.log.info(
    `${name}: watching for ${policy.auto_revert.within} (previous ${previous ? `deployment ${previous.id} at ${previous.sha.slice(0, 7)}` : 'none'}${superseded ? `; ${superseded} earlier watch(es) superseded` : ''})`,
  );
  return { kind: 'watching', deployment_id: id, superseded };
}
