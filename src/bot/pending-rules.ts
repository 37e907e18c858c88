import { z } from 'zod';
import type { GitHubClient } from '../github/octokit.ts';
import { parseReply } from '../github/reply.ts';
import type { BotLog } from './log.ts';

// A deployment held by this app's protection rule waits until the app answers; GitHub fails it
// only after 30 days. A delivery lost beyond what GitHub's delivery list still holds (recovered by
// redeliver.ts) would leave it waiting, so on start the bot looks for workflow runs waiting on an
// environment whose custom protection rules include this app, and judges each as if the
// deployment_protection_rule delivery had just arrived.

const installations = z.array(z.object({ id: z.number() }));
const repositories = z.object({
  repositories: z.array(
    z.object({ name: z.string(), owner: z.object({ login: z.string() }), default_branch: z.string() }),
  ),
});
const runs = z.object({ workflow_runs: z.array(z.object({ id: z.number(), head_sha: z.string() })) });
const pending = z.array(z.object({ environment: z.object({ name: z.string().optional() }) }));
const rules = z.object({
  custom_deployment_protection_rules: z
    .array(z.object({ enabled: z.boolean().optional(), app: z.object({ id: z.number() }) }))
    .default([]),
});
const deployments = z.array(z.object({ id: z.number(), sha: z.string(), ref: z.string() }));

/** What the protection rule's handler is given: the fields of a deployment_protection_rule delivery. */
export interface PendingRule {
  installation: number;
  payload: {
    action: 'requested';
    environment: string;
    event: 'deployment';
    deployment_callback_url: string;
    deployment: { id: number; sha: string; ref: string };
    repository: { name: string; owner: { login: string }; default_branch: string };
  };
}

export interface PendingReport {
  repositories: number;
  answered: number;
  errors: string[];
}

export async function answerPendingRules(o: {
  /** The app's own client (its JWT). */
  app: GitHubClient;
  auth: (installation: number) => Promise<GitHubClient>;
  judge: (gh: GitHubClient, rule: PendingRule) => Promise<void>;
  log: BotLog;
  /** Repositories looked at per installation (one page). */
  maxRepositories?: number;
}): Promise<PendingReport> {
  const report: PendingReport = { repositories: 0, answered: 0, errors: [] };
  const me = parseReply(z.object({ id: z.number() }), (await o.app.request('GET /app')).data, 'GET /app').id;
  const list = parseReply(
    installations,
    (await o.app.request('GET /app/installations', { per_page: 100 })).data,
    'GET /app/installations',
  );
  for (const inst of list) {
    try {
      const gh = await o.auth(inst.id);
      const base = String(gh.request.endpoint.DEFAULTS.baseUrl).replace(/\/$/, '');
      const repos = parseReply(
        repositories,
        (await gh.request('GET /installation/repositories', { per_page: o.maxRepositories ?? 100 })).data,
        'GET /installation/repositories',
      ).repositories;
      for (const r of repos) {
        report.repositories++;
        const repo = { owner: r.owner.login, repo: r.name };
        const waiting = parseReply(
          runs,
          (
            await gh.request('GET /repos/{owner}/{repo}/actions/runs', {
              ...repo,
              status: 'waiting',
              per_page: 100,
            })
          ).data,
          'GET /repos/{owner}/{repo}/actions/runs',
        ).workflow_runs;
        for (const run of waiting) {
          const envs = parseReply(
            pending,
            (
              await gh.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments', {
                ...repo,
                run_id: run.id,
              })
            ).data,
            'GET …/pending_deployments',
          );
          for (const env of envs) {
            const name = env.environment.name;
            if (!name) continue;
            const ours = parseReply(
              rules,
              (
                await gh.request(
                  'GET /repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules',
                  {
                    ...repo,
                    environment_name: name,
                  },
                )
              ).data,
              'GET …/deployment_protection_rules',
            ).custom_deployment_protection_rules.some((x) => x.app.id === me && x.enabled !== false);
            if (!ours) continue;
            const [d] = parseReply(
              deployments,
              (
                await gh.request('GET /repos/{owner}/{repo}/deployments', {
                  ...repo,
                  sha: run.head_sha,
                  environment: name,
                  per_page: 1,
                })
              ).data,
              'GET /repos/{owner}/{repo}/deployments',
            );
            if (!d) continue;
            o.log.info(
              `${repo.owner}/${repo.repo} run ${run.id}: ${name} waits on this app's protection rule: judging it now`,
            );
            await o.judge(gh, {
              installation: inst.id,
              payload: {
                action: 'requested',
                environment: name,
                event: 'deployment',
                deployment_callback_url: `${base}/repos/${repo.owner}/${repo.repo}/actions/runs/${run.id}/deployment_protection_rule`,
                deployment: d,
                repository: r,
              },
            });
            report.answered++;
          }
        }
      }
    } catch (e) {
      const msg = `installation ${inst.id}: looking for unanswered protection rules failed: ${(e as Error).message}`;
      report.errors.push(msg);
      o.log.warn(msg);
    }
  }
  return report;
}
