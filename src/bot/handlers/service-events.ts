import type { BotDeps, HandlerContext } from '../deps.ts';
import { installationRepos } from '../discover.ts';

// The webhooks that keep the always-on service's list current: a push to a default branch makes
// the next evaluation read the policy again (conditionally: unchanged is a free 304), a push to
// the audit branch the audit log, and an
// installation's change of repositories is read at once instead of at the next discovery.

interface PushPayload {
  ref?: string;
  repository?: { name: string; owner: { login?: string; name?: string }; default_branch?: string };
}

export async function onPush(ctx: HandlerContext, deps: BotDeps): Promise<void> {
  const p = ctx.payload as PushPayload;
  const r = p.repository;
  const owner = r?.owner.login ?? r?.owner.name;
  if (!r || !owner || !p.ref?.startsWith('refs/heads/')) return;
  const full = `${owner}/${r.name}`;
  if (deps.repos && r.default_branch && p.ref === `refs/heads/${r.default_branch}`) {
    await deps.repos.invalidatePolicy(full, deps.clock());
    // The runbooks, drills and postmortems may have changed: the readiness verdict is looked at
    // again at the next round (a free 304 on the branch head when the commit is the one it judged).
    await deps.readiness?.pushed(full);
    return;
  }
  // A push to the audit branch (the one the bot last read the log from): read it again at the
  // repository's next evaluation (audit-sync.ts).
  if (await deps.records?.auditPushed(full, p.ref.slice('refs/heads/'.length)))
    ctx.log.info(`${full}: audit log pushed to ${p.ref}: read again at the next evaluation`);
}

interface InstallationPayload {
  action?: string;
  installation?: { id: number; suspended_at?: string | null };
}

export async function onInstallationChange(ctx: HandlerContext, deps: BotDeps): Promise<void> {
  const p = ctx.payload as InstallationPayload;
  const id = p.installation?.id;
  if (!deps.repos || id === undefined) return;
  const gone = p.action === 'deleted' || p.action === 'suspend';
  const list = gone ? [] : await installationRepos(ctx.octokit, id);
  await deps.repos.sync(id, list, deps.clock());
  ctx.log.info(`installation ${id} (${p.action ?? 'changed'}): ${list.length} repositories evaluated`);
}
