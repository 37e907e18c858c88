import type { ApplicationFunction, Context } from 'probot';
import type { BotDeps, HandlerContext } from './deps.ts';
import { onDeploymentStatus } from './handlers/deployment-status.ts';
import { onGateCheck, onPullChange } from './handlers/gate-check.ts';
import { onIncidentIssue } from './handlers/incident-ack.ts';
import { onOverrideLabel } from './handlers/override-label.ts';
import { onProtectionRule } from './handlers/protection-rule.ts';
import { onInstallationChange, onPush } from './handlers/service-events.ts';
import { fromPino } from './log.ts';

// The Probot app: its webhooks, each handed to a handler that knows nothing of Probot, and each
// recorded as handled once its handler completes. The
// watcher (the other half of the bot) runs beside it and is started by start.ts.

const adapt = (ctx: Context): HandlerContext => ({
  octokit: ctx.octokit,
  payload: ctx.payload,
  log: fromPino(ctx.log),
});

/**
 * Runs the handler, then records the delivery as handled — only then, so a handler that fails
 * after Probot answered 202 is recovered (redeliver.ts). A failure to record costs at most one
 * more, idempotent, delivery.
 */
const handled =
  (deps: BotDeps, handler: (ctx: HandlerContext, deps: BotDeps) => Promise<unknown>) =>
  async (ctx: Context): Promise<void> => {
    await handler(adapt(ctx), deps);
    await deps.store
      .deliveryHandled(ctx.id, ctx.name, deps.clock())
      .catch((e: Error) => ctx.log.warn(`could not record delivery ${ctx.id} as handled: ${e.message}`));
  };

export function budgetGateApp(deps: BotDeps): ApplicationFunction {
  return (app) => {
    app.on('deployment_status', handled(deps, onDeploymentStatus));
    app.on('deployment_protection_rule.requested', handled(deps, onProtectionRule));
    app.on('pull_request.labeled', handled(deps, onOverrideLabel));
    app.on(
      [
        'pull_request.opened',
        'pull_request.reopened',
        'pull_request.edited',
        'pull_request.synchronize',
        'pull_request.closed',
      ],
      handled(deps, onPullChange),
    );
    app.on('check_run.completed', handled(deps, onGateCheck));
    app.on('push', handled(deps, onPush));
    app.on(['installation', 'installation_repositories'], handled(deps, onInstallationChange));
    app.on(['issues.assigned', 'issues.closed', 'issue_comment.created'], handled(deps, onIncidentIssue));
  };
}
