import { rotationOf, shiftAt } from '../policy/oncall/rotation.ts';
import type { OncallPolicy } from '../policy/oncall/schema.ts';

// What the on-call needs first, on every page: the runbook as a link they can open from a phone,
// who is on call, and where the decision that paged them can be read. Each is a link, or a sentence
// saying why there is none — never silently left out. Pure: the instant and the facts are arguments.

export interface Link {
  href: string;
  text: string;
}

export interface PageContext {
  runbook: Link | null;
  /** Why there is no runbook link (null when there is one). */
  runbook_missing: string | null;
  /** Who is on call when the page goes out, primary first. */
  oncall: Array<{ login: string; role: 'primary' | 'secondary' | 'reviewer' }>;
  oncall_missing: string | null;
  decision: Link | null;
  decision_missing: string | null;
}

/** Where the page comes from, for its links. */
export interface PageFacts {
  oncall: OncallPolicy;
  /** When the page goes out: who is on call then. */
  at: number;
  /** GitHub's web address (https://github.com; a GHES host). */
  server: string;
  /** The repository's default branch; null when unknown: HEAD, which GitHub resolves to it. */
  branch: string | null;
  /** The decision's link, or why there is none. */
  decision: Link | string;
}

export const GITHUB_WEB = 'https://github.com';

const segments = (s: string) => s.split('/').filter(Boolean).map(encodeURIComponent).join('/');

/** A file on a branch as GitHub shows it: https://github.com/OWNER/REPO/blob/BRANCH/PATH[#anchor]. */
export function repoFileUrl(server: string, repo: string, branch: string | null, path: string): string {
  const [file, anchor] = path.replace(/^\.?\//, '').split('#', 2) as [string, string | undefined];
  const base = `${server.replace(/\/+$/, '')}/${segments(repo)}/blob/${segments(branch ?? 'HEAD')}/${segments(file)}`;
  return anchor ? `${base}#${encodeURIComponent(anchor)}` : base;
}

/** A runbook URL as it is; a repository path as a link to the file on the default branch. */
function runbookLink(
  runbook: string | null | undefined,
  repo: string,
  server: string,
  branch: string | null,
): { link: Link | null; missing: string | null } {
  if (!runbook) return { link: null, missing: 'none in the policy: add `runbook:` to the alert' };
  if (/^https?:\/\//i.test(runbook))
    return { link: { href: runbook, text: `runbook ${runbook}` }, missing: null };
  return {
    link: { href: repoFileUrl(server, repo, branch, runbook), text: `runbook ${runbook}` },
    missing: null,
  };
}

/** Who is on call at `at`: the rotation's primary and secondary, or the pre-rotation reviewers. */
export function onCallAt(o: OncallPolicy, at: number): Pick<PageContext, 'oncall' | 'oncall_missing'> {
  const r = rotationOf(o);
  if (r) {
    const s = shiftAt(r, at);
    return {
      oncall: [
        { login: s.primary, role: 'primary' },
        ...(s.secondary ? [{ login: s.secondary, role: 'secondary' as const }] : []),
      ],
      oncall_missing: null,
    };
  }
  const reviewers = [...o.users, ...o.teams.map((t) => `team ${t}`)];
  if (reviewers.length > 0)
    return {
      oncall: reviewers.map((login) => ({ login, role: 'reviewer' as const })),
      oncall_missing: null,
    };
  return { oncall: [], oncall_missing: 'nobody: the policy has no rotation (oncall.members)' };
}

/** `@carol (primary), @alice (secondary)`. */
export function oncallText(c: Pick<PageContext, 'oncall' | 'oncall_missing'>): string {
  if (c.oncall.length === 0) return c.oncall_missing ?? 'nobody';
  return c.oncall
    .map((p) => `${p.login.startsWith('team ') ? p.login : `@${p.login}`} (${p.role})`)
    .join(', ');
}

export function pageContext(runbook: string | null | undefined, repo: string, f: PageFacts): PageContext {
  const rb = runbookLink(runbook, repo, f.server, f.branch);
  return {
    runbook: rb.link,
    runbook_missing: rb.missing,
    ...onCallAt(f.oncall, f.at),
    decision: typeof f.decision === 'string' ? null : f.decision,
    decision_missing: typeof f.decision === 'string' ? f.decision : null,
  };
}

/** The links a page carries, most urgent first: runbook, decision, then each person on call. */
export function contextLinks(c: PageContext, server: string): Link[] {
  return [
    ...(c.runbook ? [c.runbook] : []),
    ...(c.decision ? [c.decision] : []),
    ...c.oncall
      .filter((p) => p.role !== 'reviewer')
      .map((p) => ({
        href: `${server.replace(/\/+$/, '')}/${encodeURIComponent(p.login)}`,
        text: `on call: @${p.login} (${p.role})`,
      })),
  ];
}
