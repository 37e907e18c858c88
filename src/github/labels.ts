import type { LabelEvent } from '../policy/gate/change.ts';
import { DEFAULT_MIN_PERMISSION, overrideReasonOf } from '../policy/overrides/overrides.ts';
import type { OverridesPolicy, PermissionLevel } from '../policy/spec/schema.ts';
import { isAccessDenied, statusOf } from './errors.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';
import { lastPageOf } from './paginate.ts';

// Who applied each label and when, and what GitHub says about that person, fetched only for
// `override:*` labels and only as far as the policy's approvers need: a label that cannot apply
// (unknown reason, the author's own) costs no request.

export interface Applier {
  applied_by: string | null;
  applied_at: number | null;
}

const PER_PAGE = 100;

/**
 * The last `labeled` event for each wanted label. Events come oldest first, so one page answers
 * most pull requests; longer histories are read from the last page backwards until every label is
 * found.
 */
export async function fetchLabelAppliers(
  gh: GitHubClient,
  repo: RepoRef,
  issueNumber: number,
  names: readonly string[],
): Promise<Map<string, Applier>> {
  const found = new Map<string, Applier>();
  if (names.length === 0) return found;
  const wanted = new Set(names);
  // GitHub keeps a pull request's label history in the Issues API: reading it takes `issues: read`
  // (the refusals hook names it, src/github/errors.ts).
  const page = (n: number) =>
    gh.request('GET /repos/{owner}/{repo}/issues/{issue_number}/events', {
      ...repo,
      issue_number: issueNumber,
      per_page: PER_PAGE,
      page: n,
    });

  const first = await page(1);
  const last = lastPageOf(first.headers.link);
  const scan = (events: typeof first.data) => {
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i]!;
      const name = e.event === 'labeled' && 'label' in e ? e.label?.name : undefined;
      if (name && wanted.has(name) && !found.has(name)) {
        found.set(name, { applied_by: e.actor?.login ?? null, applied_at: Date.parse(e.created_at) });
      }
    }
  };
  if (last <= 1) {
    scan(first.data);
    return found;
  }
  for (let n = last; n >= 2 && found.size < wanted.size; n--) scan((await page(n)).data);
  if (found.size < wanted.size) scan(first.data);
  return found;
}

export interface ApproverFacts {
  teams: string[];
  permission: PermissionLevel | 'none' | null;
  warnings: string[];
}

const LEVELS: readonly string[] = ['read', 'triage', 'write', 'maintain', 'admin'];

/**
 * Team memberships (of the policy's teams only) and the repository permission (only when the
 * policy sets `min_permission`). Stops at the first matching team. A token that cannot read a
 * team leaves it out with a warning that says so, rather than failing the whole decision.
 * Callers skip this for the change's author (refused whatever GitHub says).
 */
export async function fetchApproverFacts(
  gh: GitHubClient,
  repo: RepoRef,
  username: string,
  approvers: OverridesPolicy['approvers'],
): Promise<ApproverFacts> {
  const facts: ApproverFacts = { teams: [], permission: null, warnings: [] };
  if (approvers.users.some((u) => u.toLowerCase() === username.toLowerCase())) return facts;

  for (const team of approvers.teams) {
    const [org, team_slug] = team.split('/') as [string, string];
    try {
      const res = await gh.request('GET /orgs/{org}/teams/{team_slug}/memberships/{username}', {
        org,
        team_slug,
        username,
      });
      if (res.data.state === 'active') {
        facts.teams.push(team);
        return facts;
      }
    } catch (e) {
      const status = statusOf(e);
      if (status === 404) continue;
      if (isAccessDenied(e)) {
        facts.warnings.push(
          `cannot read membership of team ${team} for @${username}: the token needs organization ` +
            '`members: read` (the default GITHUB_TOKEN never has it: use a GitHub App token or a PAT with read:org)',
        );
        continue;
      }
      throw e;
    }
  }

  // Mirrors the core's rule: a policy naming no approvers lets maintainers approve.
  const needsPermission =
    approvers.min_permission ??
    (approvers.users.length + approvers.teams.length === 0 ? DEFAULT_MIN_PERMISSION : null);
  if (needsPermission) {
    try {
      const res = await gh.request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', {
        ...repo,
        username,
      });
      const role = res.data.role_name;
      facts.permission = LEVELS.includes(role)
        ? (role as PermissionLevel)
        : (res.data.permission as PermissionLevel | 'none');
    } catch (e) {
      const status = statusOf(e);
      if (status === 404) facts.permission = 'none';
      else if (isAccessDenied(e)) {
        facts.warnings.push(
          `cannot read @${username}'s permission on ${repo.owner}/${repo.repo}: the token needs \`metadata: read\``,
        );
      } else throw e;
    }
  }
  return facts;
}

export interface GatherLabelsInput {
  issueNumber: number;
  labels: readonly string[];
  overrides: OverridesPolicy;
  /** The change's author: their own override labels are refused without asking GitHub anything. */
  author: string | null;
}

/**
 * LabelEvent[] for the policy core: plain labels pass through bare; override labels with a
 * reason the policy accepts get their applier, time and approver facts.
 */
export async function gatherLabelEvents(
  gh: GitHubClient,
  repo: RepoRef,
  input: GatherLabelsInput,
): Promise<{ labels: LabelEvent[]; warnings: string[] }> {
  const warnings: string[] = [];
  const reasons = new Set(input.overrides.reasons);
  const candidates = input.labels.filter((l) => {
    const reason = overrideReasonOf(l);
    return reason !== null && reasons.has(reason);
  });
  const appliers = await fetchLabelAppliers(gh, repo, input.issueNumber, candidates);

  const factsByUser = new Map<string, ApproverFacts>();
  const labels: LabelEvent[] = [];
  for (const name of input.labels) {
    const who = appliers.get(name);
    const event: LabelEvent = {
      name,
      applied_by: who?.applied_by ?? null,
      applied_at: who?.applied_at ?? null,
      applier_teams: [],
      applier_permission: null,
    };
    const user = event.applied_by;
    if (user && user.toLowerCase() !== input.author?.toLowerCase()) {
      let facts = factsByUser.get(user);
      if (!facts) {
        facts = await fetchApproverFacts(gh, repo, user, input.overrides.approvers);
        factsByUser.set(user, facts);
        warnings.push(...facts.warnings);
      }
      event.applier_teams = facts.teams;
      event.applier_permission = facts.permission;
    }
    labels.push(event);
  }
  return { labels, warnings };
}
