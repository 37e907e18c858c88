import type { Contributor } from '../policy/gate/change.ts';
import { PULL_COMMITS_LISTED, type PullCommits } from './pull-commits.ts';

// Who wrote a pull request, as GitHub logins: every commit's author and committer, and everyone a
// `Co-authored-by:` trailer names. An override's approver may be none of them. GitHub links a
// commit's email to an account (or sends null); a trailer is only text, so its email is matched to
// a login through GitHub's noreply form, or through an email GitHub linked on one of the commits.
// Whatever cannot be matched is said, because an unknown author might be the approver.

/** GitHub's committer for commits made in its web interface and API: not a person. */
const WEB_FLOW = 'web-flow';
/** `ID+login@users.noreply.github.com` (since 2017) and `login@users.noreply.github.com` (before). */
const NOREPLY = /^(?:\d+\+)?([a-z\d](?:[a-z\d-]*[a-z\d])?(?:\[bot\])?)@users\.noreply\.github\.com$/i;
const TRAILER = /^co-authored-by:[ \t]*(.*?)[ \t]*<([^<>\s]+)>[ \t]*$/gim;

/** The login a GitHub noreply address stands for; null for any other address. */
export function noreplyLogin(email: string): string | null {
  return NOREPLY.exec(email.trim())?.[1] ?? null;
}

export interface Contributors {
  contributors: Contributor[];
  /** Why someone who wrote part of it could not be named. */
  unknown: string[];
}

export function contributorsOf(listed: PullCommits): Contributors {
  const { commits } = listed;
  // Emails GitHub linked to accounts on these commits: a co-author may be named by one of them.
  const linked = new Map<string, string>();
  for (const c of commits) {
    if (c.author?.login && c.commit.author?.email)
      linked.set(c.commit.author.email.toLowerCase(), c.author.login);
    if (c.committer?.login && c.commit.committer?.email)
      linked.set(c.commit.committer.email.toLowerCase(), c.committer.login);
  }
  const seen = new Set<string>();
  const contributors: Contributor[] = [];
  const unknown: string[] = [];
  const add = (login: string, as: Contributor['as'], sha: string) => {
    const key = `${login.toLowerCase()}:${as}`;
    if (seen.has(key)) return;
    seen.add(key);
    contributors.push({ login, as, commit: sha });
  };

  for (const c of commits) {
    const short = c.sha.slice(0, 7);
    for (const as of ['author', 'committer'] as const) {
      const account = c[as]?.login ?? null;
      const git = c.commit[as];
      if (as === 'committer' && account === WEB_FLOW) continue;
      const login = account ?? (git?.email ? noreplyLogin(git.email) : null);
      if (login) add(login, as, c.sha);
      else
        unknown.push(
          `commit ${short}'s ${as} ${git?.email ? `<${git.email}>` : '(no email)'} is linked to no GitHub account`,
        );
    }
    for (const m of c.commit.message.matchAll(TRAILER)) {
      const email = m[2]!;
      const login = noreplyLogin(email) ?? linked.get(email.toLowerCase()) ?? null;
      if (login) add(login, 'co-author', c.sha);
      else
        unknown.push(
          `commit ${short} names co-author ${m[1] ? `${m[1]} ` : ''}<${email}>, which is neither a GitHub noreply address nor an email GitHub linked on these commits`,
        );
    }
  }
  if (listed.truncated)
    unknown.push(
      `GitHub lists at most ${PULL_COMMITS_LISTED} commits of a pull request and this one has that many: who wrote the rest cannot be read`,
    );
  return { contributors, unknown };
}
