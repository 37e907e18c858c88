import type { BotDeps, HandlerContext } from '../deps.ts';

// For teams without PagerDuty, the incident issue is where the on-call acknowledges: assigning
// themselves or commenting (the first person to do either, never a bot). Closing the issue is how
// the acknowledger ends an incident the bot would not resolve on its own (it recovered while
// acknowledged): the incident is recorded resolved by whoever closed it.

interface IssuePayload {
  action?: string;
  issue?: { number: number; pull_request?: unknown };
  assignee?: { login: string; type?: string } | null;
  comment?: { user?: { login: string; type?: string } };
  sender?: { login: string; type?: string };
  repository?: { name: string; owner: { login: string } };
}

const human = (u: { type?: string } | null | undefined) => !!u && u.type !== 'Bot';

export async function onIncidentIssue(ctx: HandlerContext, deps: BotDeps): Promise<void> {
  const p = ctx.payload as IssuePayload;
  if (!deps.incidents || !p.issue || p.issue.pull_request || !p.repository) return;
  const repo = `${p.repository.owner.login}/${p.repository.name}`;
  const inc = await deps.incidents.byIssue(repo, p.issue.number);
  if (!inc || inc.resolved_at !== null) return;
  const at = deps.clock();
  const actor = p.action === 'assigned' ? p.assignee : p.action === 'created' ? p.comment?.user : p.sender;
  if (!actor || !human(actor)) return;
  if (p.action === 'closed') {
    if (await deps.incidents.resolve(inc, at, actor.login)) {
      await deps.incidents.note(inc, { at, kind: 'resolved', text: `closed by @${actor.login}` });
      ctx.log.info(`${inc.key}: resolved by @${actor.login} (issue #${p.issue.number} closed)`);
    }
    return;
  }
  const how = p.action === 'assigned' ? 'assigned themselves' : 'commented';
  if (await deps.incidents.ack(inc, at, `@${actor.login}`)) {
    await deps.incidents.note(inc, {
      at,
      kind: 'acknowledged',
      text: `acknowledged by @${actor.login} (${how} on #${p.issue.number})`,
    });
    ctx.log.info(`${inc.key}: acknowledged by @${actor.login}`);
  }
}
