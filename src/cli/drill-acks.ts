import type { Octokit } from '@octokit/core';
import {
  incidentByKey,
  incidentNotes,
  PAGERDUTY_API_KEY_ENV,
  type PagerDutyReader,
} from '../notify/pagerduty-api.ts';
import { confirmations, memberForPagerDutyUser } from '../policy/oncall/drill.ts';
import type { OncallPolicy } from '../policy/oncall/schema.ts';
import type { StoreLike } from './existing-store.ts';
import { CliError } from './io.ts';

// Where a drill's acknowledgement and step confirmations are read (`budget-gate drill`,
// --ack-from): PagerDuty's REST API, the bot's store (which records PagerDuty's webhook and the
// issue's assignment or comment), or the drill issue itself. One look at each source per poll.

export type AckSource = 'pagerduty' | 'store' | 'issue';

export interface Seen {
  ack: { at: number; by: string; login: string | null } | null;
  /** Step number → who confirmed it and when. */
  confirmed: Map<number, { by: string; at: number }>;
  resolved: boolean;
}

export function ackSource(
  flag: string | undefined,
  have: { store: boolean; pd: boolean; token: boolean },
): AckSource {
  if (flag !== undefined) {
    if (flag !== 'pagerduty' && flag !== 'store' && flag !== 'issue')
      throw new CliError(`--ack-from ${flag.slice(0, 40)}: expected pagerduty, store or issue`);
    if (flag === 'store' && !have.store)
      throw new CliError('--ack-from store needs --store (the bot’s store)');
    if (flag === 'pagerduty' && !have.pd)
      throw new CliError(
        `--ack-from pagerduty needs a read-only PagerDuty API key in ${PAGERDUTY_API_KEY_ENV}`,
      );
    return flag;
  }
  if (have.store) return 'store';
  if (have.pd) return 'pagerduty';
  if (have.token) return 'issue';
  throw new CliError(
    `nowhere to see the acknowledgement: give --store (the bot's store), ${PAGERDUTY_API_KEY_ENV} (a read-only PagerDuty API key), or GITHUB_TOKEN (a drill issue)`,
  );
}

/** `@alice` (the issue), or `Name (PagerDuty PABC123)` (the bot's webhook) mapped to a member. */
function loginOf(oncall: OncallPolicy, by: string | null): string | null {
  if (!by) return null;
  const at = /^@([A-Za-z0-9-]+)$/.exec(by);
  if (at) return at[1]!;
  const pd = /\(PagerDuty (P[A-Z0-9]+)\)$/.exec(by);
  return pd ? memberForPagerDutyUser(oncall, pd[1]!) : null;
}

const human = (u: { type?: string } | null | undefined) => !!u && u.type !== 'Bot';

/** The drill issue: its first assignment or comment (an acknowledgement), and `confirm` comments. */
async function readIssue(
  gh: Octokit,
  owner: string,
  repo: string,
  n: number,
  count: number,
  ackHere: boolean,
  seen: Seen,
) {
  const [comments, events, state] = await Promise.all([
    gh.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      owner,
      repo,
      issue_number: n,
      per_page: 100,
    }),
    ackHere
      ? gh.request('GET /repos/{owner}/{repo}/issues/{issue_number}/events', {
          owner,
          repo,
          issue_number: n,
          per_page: 100,
        })
      : null,
    ackHere
      ? gh.request('GET /repos/{owner}/{repo}/issues/{issue_number}', { owner, repo, issue_number: n })
      : null,
  ]);
  const acks: Array<{ at: number; login: string; how: string }> = [];
  for (const c of comments.data) {
    if (!human(c.user) || !c.user) continue;
    const t = Date.parse(c.created_at);
    acks.push({ at: t, login: c.user.login, how: 'commented' });
    for (const k of confirmations(c.body ?? '', count))
      if (!seen.confirmed.has(k)) seen.confirmed.set(k, { by: c.user.login, at: t });
  }
  for (const e of events?.data ?? [])
    if (e.event === 'assigned' && 'assignee' in e && e.assignee && human(e.assignee))
      acks.push({ at: Date.parse(e.created_at), login: e.assignee.login, how: 'assigned themselves' });
  if (ackHere && !seen.ack && acks.length > 0) {
    const first = acks.sort((a, b) => a.at - b.at)[0]!;
    seen.ack = { at: first.at, by: `@${first.login}`, login: first.login };
  }
  if (state?.data.state === 'closed') seen.resolved = true;
}

/** Where to look, as the drill has them. */
export interface AckSources {
  source: AckSource;
  pd: PagerDutyReader | null;
  store: StoreLike | null;
  issue: { gh: Octokit; owner: string; repo: string; number: number } | null;
}

/** One look at every source: updates `seen`, and says which PagerDuty incident the page opened. */
export async function lookForAcks(
  at: AckSources,
  drill: { key: string; ref: { key: string; opened_at: number }; steps: number; oncall: OncallPolicy },
  seen: Seen,
  warn: (message: string) => void,
): Promise<{ pdIncident: string | null }> {
  let pdIncident: string | null = null;
  const { source, pd, store } = at;
  if (pd) {
    const inc = await incidentByKey(pd, drill.key).catch((e: Error) => {
      warn(e.message);
      return null;
    });
    if (inc) {
      pdIncident = inc.id;
      if (source === 'pagerduty' && !seen.ack && inc.acknowledged)
        seen.ack = {
          at: inc.acknowledged.at,
          by: `${inc.acknowledged.name} (PagerDuty${inc.acknowledged.user ? ` ${inc.acknowledged.user}` : ''})`,
          login: memberForPagerDutyUser(drill.oncall, inc.acknowledged.user),
        };
      if (source === 'pagerduty' && inc.resolved) seen.resolved = true;
      for (const n of await incidentNotes(pd, inc.id).catch(() => []))
        for (const k of confirmations(n.content, drill.steps))
          if (!seen.confirmed.has(k))
            seen.confirmed.set(k, {
              by: memberForPagerDutyUser(drill.oncall, n.user) ?? `${n.name} (PagerDuty)`,
              at: n.at,
            });
    }
  }
  if (store && source === 'store') {
    const row = await store.incidents.get(drill.ref);
    if (row?.acked_at != null && !seen.ack)
      seen.ack = {
        at: row.acked_at,
        by: row.acked_by ?? 'someone',
        login: loginOf(drill.oncall, row.acked_by),
      };
    if (row?.resolved_at != null) seen.resolved = true;
  }
  if (at.issue) {
    const { gh, owner, repo, number } = at.issue;
    await readIssue(gh, owner, repo, number, drill.steps, source === 'issue', seen);
  }
  return { pdIncident };
}
