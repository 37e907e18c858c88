import { z } from 'zod';
import type { GitHubClient, RepoRef } from '../../github/octokit.ts';
import { parseReply } from '../../github/reply.ts';
import { parsePayload, pullRequestPayload } from '../../github/webhook-payloads.ts';
import type { State } from '../../policy/gate/decision-schema.ts';
import type { Pull } from '../../store/records.ts';
import type { BotDeps, HandlerContext } from '../deps.ts';

// The gate's decisions on pull requests, for the dashboard, from the gate's own check runs: the
// Action posts its verdict as a check run (the `check-name` input, `budget-gate` by default), the
// headline as its title, and GitHub sends `check_run.completed` to every app subscribed to the
// event, whichever app created the run (only `rerequested` and `requested_action` go to the
// creator alone). So the bot learns every decision the moment it is made, including the re-runs it
// asks for when a pause lifts or begins (recheck.ts), at no request of its own — where reading
// check runs back would cost a request per open pull request per look, and would miss every
// decision made between looks. The pull requests' titles and states come from `pull_request`
// webhooks; a pull request first seen through its check run costs one request.
//
// Only a completed run of the configured name created by `github-actions` is taken: another app
// installed on the repository cannot write the gate's history by naming a check run the same.

const GATE_APP = 'github-actions';

const checkRunPayload = z.object({
  check_run: z.object({
    id: z.number().int(),
    name: z.string(),
    head_sha: z.string(),
    conclusion: z.string().nullable(),
    completed_at: z.string().nullable().optional(),
    html_url: z.string().nullable().optional(),
    output: z.object({ title: z.string().nullable().optional() }).optional(),
    app: z.object({ slug: z.string().optional() }).nullable().optional(),
    pull_requests: z
      .array(z.object({ number: z.number().int(), head: z.object({ sha: z.string() }).optional() }))
      .default([]),
  }),
  repository: z.object({ name: z.string(), owner: z.object({ login: z.string() }) }),
});

const commitPulls = z.array(
  z.object({
    number: z.number().int(),
    title: z.string(),
    state: z.string(),
    user: z.object({ login: z.string() }).nullable(),
    head: z.object({ sha: z.string() }),
  }),
);

const LABELS: Array<[string, State]> = [
  ['SHIP', 'ship'],
  ['SOFT-PAUSE', 'soft-pause'],
  ['HARD-PAUSE', 'hard-pause'],
];

/** The state a headline starts with (src/report/headline.ts); null for a gate that could not decide. */
export function stateOfHeadline(title: string): State | null {
  for (const [label, state] of LABELS) if (title === label || title.startsWith(`${label} `)) return state;
  return null;
}

export type GateCheckOutcome =
  | { kind: 'ignored'; reason: string }
  | { kind: 'recorded'; state: State | null; allowed: boolean; pulls: number[]; requests: number };

/** The open pull requests whose head is this commit, as GitHub lists them now (one request). */
async function pullsAt(gh: GitHubClient, repo: RepoRef, sha: string): Promise<Pull[]> {
  const res = await gh.request('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', {
    ...repo,
    commit_sha: sha,
    per_page: 100,
  });
  return parseReply(commitPulls, res.data, 'GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls')
    .filter((p) => p.head.sha === sha)
    .map((p) => ({
      repo: `${repo.owner}/${repo.repo}`,
      number: p.number,
      title: p.title,
      author: p.user?.login ?? null,
      open: p.state === 'open',
      head_sha: p.head.sha,
    }));
}

export async function onGateCheck(ctx: HandlerContext, deps: BotDeps): Promise<GateCheckOutcome> {
  const records = deps.records;
  if (!records) return { kind: 'ignored', reason: 'the always-on service is off' };
  const p = parsePayload(checkRunPayload, ctx.payload, 'check_run');
  const run = p.check_run;
  if (run.name !== deps.gateCheckName)
    return { kind: 'ignored', reason: `not the gate's check (${run.name})` };
  if (run.app?.slug !== GATE_APP)
    return { kind: 'ignored', reason: `created by ${run.app?.slug ?? 'an unknown app'}, not ${GATE_APP}` };
  if (run.conclusion === null) return { kind: 'ignored', reason: 'not completed' };
  const repo = { owner: p.repository.owner.login, repo: p.repository.name };
  const full = `${repo.owner}/${repo.repo}`;
  const title = run.output?.title ?? '';
  const state = stateOfHeadline(title);
  // success: allowed; failure (enforce) and neutral (report) are a blocked change; the rest
  // (cancelled, timed out, skipped) decided nothing.
  if (!['success', 'failure', 'neutral'].includes(run.conclusion))
    return { kind: 'ignored', reason: `concluded ${run.conclusion}: no decision` };
  const allowed = run.conclusion === 'success';
  const now = deps.clock();
  const at = run.completed_at ? Date.parse(run.completed_at) : now;

  // The pull requests this decision is about: the ones the event names (same-repository heads),
  // else those GitHub lists for the commit (a fork's pull request). Known ones cost nothing.
  let requests = 0;
  const named = run.pull_requests.filter((x) => !x.head || x.head.sha === run.head_sha).map((x) => x.number);
  const known: Pull[] = [];
  for (const n of named) {
    const pull = await records.pull(full, n);
    // The event says this is its head now (its `synchronize` may not have arrived yet).
    if (pull && pull.head_sha !== run.head_sha)
      await records.savePull({ ...pull, head_sha: run.head_sha }, now);
    if (pull) known.push({ ...pull, head_sha: run.head_sha });
  }
  let pulls: Pull[] = known;
  if (named.length === 0 || known.length < named.length) {
    requests++;
    const listed = await pullsAt(ctx.octokit, repo, run.head_sha);
    for (const pull of listed) await records.savePull(pull, now);
    pulls = listed.filter((x) => x.open && (named.length === 0 || named.includes(x.number)));
  }

  await records.recordGateDecision({
    repo: full,
    check_run_id: run.id,
    at,
    sha: run.head_sha,
    pull_number: pulls[0]?.number ?? named[0] ?? null,
    state,
    allowed,
    conclusion: run.conclusion,
    headline: title || `the gate's check run concluded ${run.conclusion}`,
    url: run.html_url ?? null,
  });
  const decided: number[] = [];
  for (const pull of pulls) {
    if (pull.head_sha !== run.head_sha) continue; // a late run for a commit the pull request has moved past
    const headline = title || `the gate's check run concluded ${run.conclusion}`;
    // Held means the required check failed: under `mode: report` a blocked change concludes
    // `neutral`, which stops no merge, so it is recorded as blocked but holds nothing.
    const holds = run.conclusion === 'failure';
    if (
      await records.pullDecision(full, pull.number, { check_run_id: run.id, at, allowed: !holds, headline })
    )
      decided.push(pull.number);
  }
  ctx.log.info(
    `${full}: gate ${allowed ? 'allowed' : 'blocked'} ${run.head_sha.slice(0, 7)}${decided.length ? ` (${decided.map((n) => `#${n}`).join(', ')})` : ''}: ${title}`,
  );
  return { kind: 'recorded', state, allowed, pulls: decided, requests };
}

const pullEventPayload = pullRequestPayload.extend({ action: z.string() });

/** opened, reopened, edited, synchronize, closed: the pull request as GitHub says it is now. */
export async function onPullChange(ctx: HandlerContext, deps: BotDeps): Promise<void> {
  if (!deps.records) return;
  const p = parsePayload(pullEventPayload, ctx.payload, 'pull_request');
  await deps.records.savePull(
    {
      repo: `${p.repository.owner.login}/${p.repository.name}`,
      number: p.pull_request.number,
      title: p.pull_request.title,
      author: p.pull_request.user?.login ?? null,
      open: p.action !== 'closed',
      head_sha: p.pull_request.head.sha,
    },
    deps.clock(),
  );
}
