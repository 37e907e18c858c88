import type { GitHubClient, RepoRef } from '../github/octokit.ts';
import { comment, requestReviewers } from '../github/pull-actions.ts';
import { type RevertFacts, type RevertPage, revertFailedEvent, revertOpenedEvent } from '../notify/events.ts';
import { MemoryLedger } from '../notify/ledger.ts';
import { Notifier } from '../notify/notifier.ts';
import type { Watch, WatchStore } from '../policy/canary/ports.ts';
import type { NotifyLedger } from '../policy/oncall/ports.ts';
import { type EscalationTarget, escalationPath } from '../policy/oncall/rotation.ts';
import { formatWall } from '../policy/oncall/zone.ts';
import type { Policy } from '../policy/spec/schema.ts';
import type { BotLog } from './log.ts';
import { botServer, dashboardLink } from './page-links.ts';
import { PolicyCache } from './policy-cache.ts';

// The on-call side of a revert: page about it (or about a revert that failed), ask the current
// primary to review it, and walk the escalation path while nobody acknowledges. Acknowledged means
// a review, a comment or an assignment by anyone on the path. The state lives on GitHub: each
// escalation comment carries a marker with its step, so a restarted bot (or another replica) reads
// what was already done instead of asking twice; memory only saves requests between steps.

/** What the watcher calls; every hook swallows and logs its own failures. */
export interface WatcherHooks {
  revertOpened?(
    w: Watch,
    pr: { pull_number: number; url: string },
    policy: Policy,
    at: number,
    reason: string,
  ): Promise<void>;
  revertFailed?(w: Watch, error: string, policy: Policy, at: number, reason: string): Promise<void>;
  tick?(at: number): Promise<void>;
}

export interface EscalatorOptions {
  store: WatchStore;
  auth: (installationId: number) => Promise<GitHubClient>;
  log: BotLog;
  env?: Record<string, string | undefined>;
  ledger?: NotifyLedger;
  fetch?: typeof fetch;
  /** Reverts older than this are not escalated any more (a bot back from a long outage stays quiet). */
  horizonMs?: number;
}

const MARKER = /<!-- budget-gate:escalation step=(\d+) -->/;
const marker = (step: number) => `<!-- budget-gate:escalation step=${step} -->`;

export class Escalator implements WatcherHooks {
  private readonly o: EscalatorOptions;
  private readonly ledger: NotifyLedger;
  private readonly policies = new PolicyCache();
  /** Highest step known to be announced, per watch; -1 once acknowledged, closed or exhausted. */
  private readonly reached = new Map<number, number>();

  constructor(o: EscalatorOptions) {
    this.o = o;
    this.ledger = o.ledger ?? new MemoryLedger();
  }

  private notifier(policy: Policy): Notifier {
    return new Notifier({
      oncall: policy.oncall,
      env: this.o.env ?? {},
      ledger: this.ledger,
      ...(this.o.fetch ? { fetch: this.o.fetch } : {}),
    });
  }

  private async guard(what: string, fn: () => Promise<void>) {
    try {
      await fn();
    } catch (e) {
      this.o.log.warn(`${what}: ${(e as Error).message}`);
    }
  }

  async revertOpened(
    w: Watch,
    pr: { pull_number: number; url: string },
    policy: Policy,
    at: number,
    reason: string,
  ) {
    const n = this.notifier(policy);
    await this.guard(`deployment ${w.deployment_id}: notify revert`, async () => {
      const f = facts(w, reason);
      const page = this.page(w, at);
      for (const d of await n.send(
        [revertOpenedEvent(policy, f, { number: pr.pull_number, url: pr.url }, page)],
        at,
      ))
        for (const e of d.errors) this.o.log.warn(e);
      await n.resolve(revertFailedEvent(policy, f, '', page).key, at);
    });
    const primary = escalationPath(policy.oncall, at)[0];
    if (!primary) return;
    await this.guard(
      `revert #${pr.pull_number}: request review from the primary @${primary.login}`,
      async () => {
        const gh = await this.o.auth(w.installation_id);
        await requestReviewers(gh, ref(w), pr.pull_number, { users: [primary.login], teams: [] });
        this.reached.set(w.deployment_id, 0);
        this.o.log.info(`revert #${pr.pull_number}: review requested from the primary @${primary.login}`);
      },
    );
  }

  async revertFailed(w: Watch, error: string, policy: Policy, at: number, reason: string) {
    const n = this.notifier(policy);
    await this.guard(`deployment ${w.deployment_id}: notify failed revert`, async () => {
      // The decision that failed is told on the pull request that shipped it (the failure comment),
      // or else on the dashboard's deployments, or GitHub's deployments page (the event's default).
      const server = botServer(this.o.env ?? {});
      const shipped = w.pull_number
        ? {
            href: `${server}/${w.owner}/${w.repo}/pull/${w.pull_number}`,
            text: `budget-gate decision (the failure, on #${w.pull_number})`,
          }
        : dashboardLink(this.o.env ?? {}, `${w.owner}/${w.repo}`, 'deployments');
      const page = { ...this.page(w, at), ...(shipped ? { decision: shipped } : {}) };
      for (const d of await n.send([revertFailedEvent(policy, facts(w, reason), error, page)], at))
        for (const e of d.errors) this.o.log.warn(e);
    });
  }

  /** What a revert's page links: the runbook the watch's evidence names, on the default branch. */
  private page(w: Watch, at: number): RevertPage {
    let runbookAlert: string | null = null;
    try {
      const ev = w.evidence ? (JSON.parse(w.evidence) as { runbook?: { alert?: unknown } | null }) : null;
      if (typeof ev?.runbook?.alert === 'string') runbookAlert = ev.runbook.alert;
    } catch {
      // An unreadable evidence column only loses which alert's runbook: the most urgent one is linked.
    }
    return { at, server: botServer(this.o.env ?? {}), branch: w.default_branch, runbook_alert: runbookAlert };
  }

  async tick(at: number) {
    const horizon = this.o.horizonMs ?? 7 * 86_400_000;
    let watches: Watch[] = [];
    await this.guard('escalation: list reverts', async () => {
      watches = await this.o.store.list();
    });
    const reverted = watches.filter(
      (w) =>
        w.status === 'reverted' &&
        w.revert_pr !== null &&
        at - w.updated_at <= horizon &&
        this.reached.get(w.deployment_id) !== -1,
    );
    for (const w of reverted) {
      await this.guard(`revert #${w.revert_pr}: escalation`, () => this.escalate(w, at));
    }
  }

  /** Requests (on GitHub) happen only when a step is due that this process has not seen announced. */
  private async escalate(w: Watch, at: number) {
    const policy = this.policies.get(w.policy_text, w.policy_path);
    // The revert was opened when the watch finished; the path is the one on call then.
    const t0 = w.updated_at;
    const path = escalationPath(policy.oncall, t0);
    if (path.length <= 1) {
      this.reached.set(w.deployment_id, -1);
      return;
    }
    let due = 0;
    for (const p of path) if (t0 + p.after <= at) due = p.step;
    if (due === 0 || (this.reached.get(w.deployment_id) ?? 0) >= due) return;
    const gh = await this.o.auth(w.installation_id);
    const repo = ref(w);
    const n = w.revert_pr!;
    const pull = await gh.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
      ...repo,
      pull_number: n,
    });
    if (pull.data.state !== 'open') {
      this.reached.set(w.deployment_id, -1);
      return;
    }
    const logins = new Set(path.map((p) => p.login.toLowerCase()));
    const [reviews, comments] = await Promise.all([
      gh.request('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', {
        ...repo,
        pull_number: n,
        per_page: 100,
      }),
      gh.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        ...repo,
        issue_number: n,
        per_page: 100,
      }),
    ]);
    const ackBy =
      reviews.data.find((r) => logins.has(r.user?.login.toLowerCase() ?? ''))?.user?.login ??
      comments.data.find((c) => logins.has(c.user?.login.toLowerCase() ?? '') && !MARKER.test(c.body ?? ''))
        ?.user?.login ??
      (pull.data.assignees ?? []).find((a) => logins.has(a.login.toLowerCase()))?.login;
    if (ackBy) {
      this.reached.set(w.deployment_id, -1);
      this.o.log.info(`revert #${n}: acknowledged by @${ackBy}; no escalation`);
      return;
    }
    let announced = 0;
    for (const c of comments.data) {
      const m = MARKER.exec(c.body ?? '');
      if (m) announced = Math.max(announced, Number(m[1]));
    }
    const next = path.filter((p) => p.step > announced && p.step <= due);
    if (next.length > 0) {
      await requestReviewers(gh, repo, n, { users: next.map((p) => p.login), teams: [] });
      await comment(gh, repo, n, escalationComment(path, next, t0, policy));
      this.o.log.info(`revert #${n}: escalated to ${next.map((p) => `@${p.login}`).join(', ')}`);
    }
    this.reached.set(w.deployment_id, due >= path.length - 1 ? -1 : due);
  }
}

function escalationComment(
  path: EscalationTarget[],
  next: EscalationTarget[],
  t0: number,
  policy: Policy,
): string {
  const zone = policy.oncall.timezone;
  const last = next[next.length - 1]!;
  const waited = path.filter((p) => p.step < last.step);
  const who = next.map((p) => `@${p.login}`).join(' and ');
  const after = path[last.step + 1];
  return [
    `${who}: this revert has not been acknowledged since ${formatWall(t0, zone)} by ${waited.map((p) => `@${p.login} (${p.role})`).join(', ')}, so it escalates to you (step ${last.step + 1} of ${path.length} of the escalation path).`,
    '',
    'Acknowledge by reviewing this pull request, commenting on it or assigning yourself.',
    after
      ? `Next: @${after.login} at ${formatWall(t0 + after.after, zone)} if nobody has.`
      : 'This is the last step of the escalation path.',
    marker(last.step),
  ].join('\n');
}

const ref = (w: Watch): RepoRef => ({ owner: w.owner, repo: w.repo });

function facts(w: Watch, message: string): RevertFacts {
  return {
    repo: `${w.owner}/${w.repo}`,
    deployment_id: w.deployment_id,
    sha: w.sha,
    environment: w.environment,
    message,
  };
}
