import { z } from 'zod';
import { statusOf } from '../github/errors.ts';
import type { GitHubClient, RepoRef } from '../github/octokit.ts';
import { parseReply } from '../github/reply.ts';
import type { State } from '../policy/gate/decision-schema.ts';
import type { BotLog } from './log.ts';

// Held pull requests re-checked when the repository's state changes. The gate's check run belongs
// to the `github-actions` app, so re-requesting it runs nothing; the bot re-runs the gate's job
// through the Actions API instead (`actions: write`): for Actions, a check run's id is its job's
// id. A pause that lifts re-runs the gate checks that failed, so a held prompt change turns green
// on its own; a pause that begins re-runs the ones that passed, so a required check turns red
// before merge (the re-run reads the labels and the live burn again; only its event is the old
// one). The job name is the check run's name: `gate` in the README's workflow.

const RANK: Record<State, number> = { ship: 0, 'soft-pause': 1, 'hard-pause': 2 };

const pullsSchema = z.array(z.object({ number: z.number(), head: z.object({ sha: z.string() }) }));
const checksSchema = z.object({
  check_runs: z.array(
    z.object({
      id: z.number(),
      conclusion: z.string().nullable(),
      app: z.object({ slug: z.string() }).nullable(),
    }),
  ),
});

export interface Recheck {
  rerun: Array<{ pull: number; job: number }>;
  errors: string[];
}

export async function recheckHeld(
  gh: GitHubClient,
  repo: RepoRef,
  from: State,
  to: State,
  checkName: string,
  log: BotLog,
): Promise<Recheck> {
  const out: Recheck = { rerun: [], errors: [] };
  if (from === to) return out;
  // Lifting: what failed may pass now. Tightening: what passed may fail now.
  const stale = RANK[to] < RANK[from] ? 'failure' : 'success';
  const res = await gh.request('GET /repos/{owner}/{repo}/pulls', { ...repo, state: 'open', per_page: 100 });
  const pulls = parseReply(pullsSchema, res.data, 'GET /repos/{owner}/{repo}/pulls');
  for (const p of pulls) {
    const checks = await gh.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
      ...repo,
      ref: p.head.sha,
      check_name: checkName,
      filter: 'latest',
    });
    const runs = parseReply(checksSchema, checks.data, 'GET /repos/{owner}/{repo}/commits/{ref}/check-runs');
    for (const run of runs.check_runs) {
      if (run.app?.slug !== 'github-actions' || run.conclusion !== stale) continue;
      try {
        await gh.request('POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun', {
          ...repo,
          job_id: run.id,
        });
        out.rerun.push({ pull: p.number, job: run.id });
      } catch (e) {
        const why =
          statusOf(e) === 403
            ? 'the installation has not granted `actions: write` (accept the new permission in the App settings)'
            : (e as Error).message;
        out.errors.push(`#${p.number}: gate job ${run.id} not re-run: ${why}`);
      }
    }
  }
  for (const e of out.errors) log.warn(`${repo.owner}/${repo.repo}: ${e}`);
  if (out.rerun.length)
    log.info(
      `${repo.owner}/${repo.repo}: ${from} → ${to}: re-ran the gate on ${out.rerun.map((r) => `#${r.pull}`).join(', ')}`,
    );
  return out;
}
