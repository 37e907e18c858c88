import { GITHUB_WEB, type Link } from '../notify/links.ts';

// Where the bot's pages link: GitHub's web host (GHES through Probot's GHE_HOST), and the decision
// as the bot's dashboard shows it (the repository's page: its state, alerts and burn), when the
// dashboard is on. Without it, a page says the decision cannot be linked and where to read it.

/** https://github.com, or the GHES host Probot is pointed at. */
export function botServer(env: Record<string, string | undefined>): string {
  const ghe = env.GHE_HOST?.trim();
  if (ghe) return `${env.GHE_PROTOCOL?.trim() || 'https'}://${ghe.replace(/\/+$/, '')}`;
  const s = env.GITHUB_SERVER_URL?.trim();
  return s && /^https?:\/\//.test(s) ? s.replace(/\/+$/, '') : GITHUB_WEB;
}

/** The dashboard's page for a repository (a tab of it), from DASHBOARD_CALLBACK_URL; null when it is off. */
export function dashboardLink(
  env: Record<string, string | undefined>,
  repo: string,
  tab?: 'deployments' | 'history' | 'oncall',
): Link | null {
  const cb = env.DASHBOARD_CALLBACK_URL?.trim();
  if (!cb) return null;
  let u: URL;
  try {
    u = new URL(cb);
  } catch {
    return null;
  }
  if (!u.pathname.endsWith('/callback')) return null;
  const base = `${u.origin}${u.pathname.replace(/\/callback$/, '')}`;
  const [owner, name] = repo.split('/') as [string, string];
  return {
    href: `${base}/r/${encodeURIComponent(owner)}/${encodeURIComponent(name)}${tab ? `/${tab}` : ''}`,
    text: `budget-gate decision (dashboard${tab ? `: ${tab}` : ''})`,
  };
}

export const NO_DASHBOARD =
  'not linked: the bot’s dashboard is off (DASHBOARD_CALLBACK_URL); the incident issue and `budget-gate evaluate` show it';
