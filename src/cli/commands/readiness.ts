import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Octokit } from '@octokit/core';
import { checkMembers } from '../../github/readiness-members.ts';
import { FileLedger, LedgerError } from '../../notify/ledger.ts';
import { primaries } from '../../policy/oncall/drill.ts';
import { assessReadiness, type ReadinessEvidence, renderReadiness } from '../../policy/readiness/verdict.ts';
import type { Policy } from '../../policy/spec/schema.ts';
import { durationOf } from '../../policy/time/duration-value.ts';
import { REPO_OPTIONS, repoFiles } from '../../repo/files.ts';
import { READINESS_HISTORY_MS as HISTORY_MS, incidentEvidence } from '../../store/readiness.ts';
import { openExistingStore } from '../existing-store.ts';
import { parseAt, readPolicy } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';

export const READINESS_USAGE = `budget-gate readiness [--policy FILE] [--root DIR] [--at TIME] [--json]
    [--repo OWNER/NAME] [--store sqlite:PATH|postgres://...] [--ledger FILE] [--ack-within 28d]

Scores the repository on five gates, each judged from evidence, never from the config's word:
written SLOs, an error-budget policy, a live on-call rotation (its members resolve to real GitHub
users — and to members of oncall.teams in --repo's organisation — with GITHUB_TOKEN, else they are
"unverified"; and someone acknowledged a page or a drill within --ack-within: drill records,
or the bot's --store), concrete runbooks drilled by every primary for the top 3 alerts (ranked by
how often they fired: the bot's --store, or oncall page's --ledger; else by severity), and a
postmortem ritual. 0-2 NOT YET, 3-4 SOFT-LAUNCH ONLY, 5 PRODUCTION-READY.

exit 0 PRODUCTION-READY, 1 otherwise, 2 invalid input`;

export async function readinessCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...REPO_OPTIONS,
      repo: { type: 'string' },
      store: { type: 'string' },
      ledger: { type: 'string' },
      'ack-within': { type: 'string', default: '28d' },
    },
  });
  const within = durationOf(values['ack-within']);
  if (!within) throw new CliError(`--ack-within ${values['ack-within']}: expected a duration such as 28d`);
  if (values.repo !== undefined && !/^[^/\s]+\/[^/\s]+$/.test(values.repo))
    throw new CliError(`--repo ${values.repo}: expected owner/name`);
  const at = parseAt(io, values.at);
  const files = repoFiles(resolve(io.cwd, values.root));
  // The policy, read as the gates read it, for the members to check (a policy that does not load
  // is the first gate's finding, not an error here).
  let policy: Policy | null = null;
  if (files.read(values.policy) !== null) {
    try {
      policy = (await readPolicy(io, resolve(io.cwd, values.root, values.policy))).policy;
    } catch {
      policy = null;
    }
  }
  const ev: ReadinessEvidence = {
    members: policy ? await membersOf(policy, values.repo ?? null, io) : 'no policy to read members from',
    acks: [],
    firing: null,
    ackWithinMs: within.ms,
  };
  if (values.store) {
    const store = await openExistingStore(values.store, io);
    try {
      const incidents = await store.incidents.between(values.repo ?? '', at - HISTORY_MS, at);
      const found = incidentEvidence(incidents, at, !values.repo);
      ev.acks.push(...found.acks);
      ev.firing = found.firing;
    } finally {
      await store.close();
    }
  } else if (values.ledger) {
    const ledger = new FileLedger(resolve(io.cwd, values.ledger));
    try {
      const counts: Record<string, number> = {};
      for (const e of await ledger.all()) {
        const m = /\/alert\/([^/]+)\//.exec(e.key);
        if (e.kind === 'alert' && m && e.raised_at >= at - HISTORY_MS && e.raised_at <= at)
          counts[m[1]!] = (counts[m[1]!] ?? 0) + 1;
      }
      ev.firing = { counts, source: `${values.ledger} (oncall page's ledger), last 90 days` };
    } catch (e) {
      if (e instanceof LedgerError) throw new CliError(e.message);
      throw e;
    }
  }
  const r = assessReadiness(files, values.policy, at, ev);
  io.stdout(values.json ? `${JSON.stringify(r, null, 2)}\n` : renderReadiness(r));
  return r.verdict === 'PRODUCTION-READY' ? EXIT.allowed : EXIT.blocked;
}

/** The members checked with GITHUB_TOKEN (src/github/readiness-members.ts); without one, a sentence. */
async function membersOf(
  policy: Policy,
  repo: string | null,
  io: CliIo,
): Promise<ReadinessEvidence['members']> {
  const token = io.env.GITHUB_TOKEN || io.env.GH_TOKEN;
  if (primaries(policy.oncall).length > 0 && !token)
    return 'no GitHub token was given (GITHUB_TOKEN), so nobody checked that the members are real GitHub users';
  const gh = new Octokit({ auth: token, baseUrl: io.env.GITHUB_API_URL || 'https://api.github.com' });
  return checkMembers(gh, policy, repo?.split('/')[0] ?? null);
}
