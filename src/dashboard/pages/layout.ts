import type { Html } from '../html.ts';
import { html, segment } from '../html.ts';
import type { Capabilities, RepoName } from '../ports.ts';

/** Who is looking, in the signed-in mode: shown in the header with a logout form (POST + CSRF token). */
export interface Viewer {
  login: string;
  csrf: string;
}

export interface PageContext {
  /** Where the dashboard is mounted: '' locally, '/dashboard' on the bot. */
  base: string;
  viewer: Viewer | null;
  capabilities: Capabilities;
}

export function layout(ctx: PageContext, title: string, body: Html): Html {
  const who = ctx.viewer
    ? html`<div class="who">@${ctx.viewer.login}
<form method="post" action="${ctx.base}/logout"><input type="hidden" name="csrf" value="${ctx.viewer.csrf}"><button type="submit">Sign out</button></form></div>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title} · budget-gate</title>
<link rel="stylesheet" href="${ctx.base}/assets/dashboard.css">
<script src="${ctx.base}/assets/local-time.js" defer></script>
</head><body>
<header class="top"><a class="brand" href="${ctx.base}/">budget-gate</a><span class="note">error budgets</span>${who}</header>
<main>${body}</main>
</body></html>`;
}

export type Tab = 'repository' | 'deployments' | 'history' | 'oncall';

export const repoPath = (ctx: PageContext, repo: RepoName, tab: Tab = 'repository'): string => {
  const [owner = '', name = ''] = repo.split('/');
  const root = `${ctx.base}/r/${segment(owner)}/${segment(name)}`;
  return tab === 'repository' ? root : `${root}/${tab}`;
};

export function tabs(ctx: PageContext, repo: RepoName, current: Tab): Html {
  const tab = (t: Tab, label: string, on: boolean) =>
    !on
      ? html`<span class="off" title="${ctx.capabilities.note ?? ''}">${label}</span>`
      : t === current
        ? html`<a href="${repoPath(ctx, repo, t)}" aria-current="page">${label}</a>`
        : html`<a href="${repoPath(ctx, repo, t)}">${label}</a>`;
  return html`<h1>${repo}</h1><nav class="tabs" aria-label="repository">
${tab('repository', 'Budgets', true)}${tab('deployments', 'Deployments', ctx.capabilities.deployments)}${tab('history', 'History', ctx.capabilities.history)}${tab('oncall', 'On-call', true)}
</nav>`;
}
