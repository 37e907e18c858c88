import { primaries } from '../policy/oncall/drill.ts';
import type { ReadinessEvidence } from '../policy/readiness/verdict.ts';
import type { Policy } from '../policy/spec/schema.ts';
import { statusOf } from './errors.ts';
import type { GitHubClient } from './octokit.ts';

/**
 * Each primary is a real GitHub user (GET /users/{login}) and, when the policy names oncall.teams
 * and `org` is known, an active member of one of them. A refused call (no permission, rate limit)
 * leaves that member unverified, with the status said: the on-call gate then fails, as it would
 * for a member nobody could check. Shared by `budget-gate readiness` and the bot.
 */
export async function checkMembers(
  gh: GitHubClient,
  policy: Policy,
  org: string | null,
): Promise<ReadinessEvidence['members']> {
  const people = primaries(policy.oncall);
  if (people.length === 0) return 'the policy has no rotation (oncall.members)';
  const teams = policy.oncall.teams;
  const out: Array<{ login: string; ok: boolean; why: string }> = [];
  for (const login of people) {
    try {
      const u = await gh.request('GET /users/{username}', { username: login });
      if (u.data.type !== 'User') {
        out.push({ login, ok: false, why: `a GitHub ${u.data.type}, not a person` });
        continue;
      }
    } catch (e) {
      const s = statusOf(e);
      out.push({
        login,
        ok: false,
        why:
          s === 404
            ? 'no such GitHub user'
            : `the token could not read the user (${s || (e as Error).message})`,
      });
      continue;
    }
    if (!org || teams.length === 0) {
      out.push({ login, ok: true, why: 'real GitHub users' });
      continue;
    }
    let member: string | null = null;
    let why = '';
    for (const team of teams) {
      try {
        const m = await gh.request('GET /orgs/{org}/teams/{team_slug}/memberships/{username}', {
          org,
          team_slug: team.includes('/') ? team.split('/')[1]! : team,
          username: login,
        });
        if (m.data.state === 'active') {
          member = team;
          break;
        }
        why = `invited to ${org}/${team} but not yet a member`;
      } catch (e) {
        const s = statusOf(e);
        why =
          s === 404
            ? `not a member of ${teams.map((t) => `${org}/${t}`).join(' or ')}`
            : `the token cannot read ${org}'s teams (${s}): it needs read:org`;
      }
    }
    out.push(
      member ? { login, ok: true, why: `real GitHub users in ${org}/${member}` } : { login, ok: false, why },
    );
  }
  return out;
}
