import type { ApplicationFunction, Context } from 'probot';
import type { BotDeps, HandlerContext } from './deps.ts';
import { onDeploymentStatus } from './handlers/deployment-status.ts';
import { onIncidentIssue } from './handlers/incident-ack.ts';
import { onOverrideLabel } from './handlers/override-label.ts';
import { onProtectionRule } from './handlers/protection-rule.ts';
import { onInstallationChange, onPush } from './handlers/service-events.ts';
import { fromPino } from './log.ts';

// The Probot app: three webhooks, each handed to a handler that knows nothing of Probot. The
// watcher (the other half of the bot) runs beside it and is started by main.ts.

const adapt = (ctx: Context): HandlerContext => ({
  octokit: ctx.octokit,
  payload: ctx.payload,
  log: fromPino(ctx.log),
});

export function budgetGateApp(deps: BotDeps): ApplicationFunction {
  return (app) => {
    app.on('deployment_status', async (ctx) => {
      await onDeploymentStatus(adapt(ctx), deps);
    });
    app.on('deployment_protection_rule.requested', async (ctx) => {
      await onProtectionRule(adapt(ctx), deps);
    });
    app.on('pull_request.labeled', async (ctx) => {
      await onOverrideLabel(adapt(ctx), deps);
    });
    app.on('push', async (ctx) => {
      await onPush(adapt(ctx), deps);
    });
    app.on(['installation', 'installation_repositories'], async (ctx) => {
      await onInstallationChange(adapt(ctx), deps);
    });
    app.on(['issues.assigned', 'issues.closed', 'issue_comment.created'], async (ctx) => {
      await onIncidentIssue(adapt(ctx), deps);
    });
  };
}
