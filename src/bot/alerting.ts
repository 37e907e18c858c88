import { alertEvent } from '../notify/events.ts';
import type { Delivery } from '../notify/notifier.ts';
import { Notifier } from '../notify/notifier.ts';
import { sendSlack, slackNote } from '../notify/slack.ts';
import type { FiringAlert } from '../policy/gate/decision-schema.ts';
import type { NotifyLedger } from '../policy/oncall/ports.ts';
import { escalationPath } from '../policy/oncall/rotation.ts';
import { routeSeverity } from '../policy/oncall/routing.ts';
import type { Policy } from '../policy/spec/schema.ts';
import type { Incident, SqlIncidentStore } from '../store/incidents.ts';
import type { Evaluated } from './evaluator.ts';
import type { BotLog } from './log.ts';
import { botServer, dashboardLink, NO_DASHBOARD } from './page-links.ts';

// Alerts that page by themselves: after each stored evaluation, every firing multi-window alert
// has one open incident per repository, SLO and alert (its dedup key carries no deployment, so
// the same burn across deployments pages once), routed by its severity through the Notifier and
// the store's ledger. An incident resolves only after it stayed clear for its alert's short
// window — the alert's own memory: once the minutes that fired it have left the short window, a
// new burn is a new episode; before, it is the same one flapping around the line. An incident
// someone acknowledged is never resolved by the bot: the recovery is noted on it, and the person
// who acknowledged it closes it (the incident issue, or PagerDuty).

type IncidentStore = Pick<
  SqlIncidentStore,
  | 'open'
  | 'openFor'
  | 'firing'
  | 'clear'
  | 'recovered'
  | 'resolve'
  | 'note'
  | 'get'
  | 'escalate'
  | 'byKey'
  | 'closedElsewhere'
>;

/** What else acts on an incident's life (the GitHub issue): each call may fail without stopping paging. */
export interface IncidentHooks {
  opened?(i: Incident, e: Evaluated, alert: FiringAlert): Promise<void>;
  changed?(i: Incident, e: Evaluated): Promise<void>;
  escalated?(i: Incident, e: Evaluated, login: string, text: string): Promise<void>;
}

export interface AlertingOptions {
  incidents: IncidentStore;
  ledger: NotifyLedger;
  env: Record<string, string | undefined>;
  log: BotLog;
  fetch?: typeof fetch;
  hooks?: IncidentHooks;
}

const FALLBACK_HOLD_MS = 5 * 60_000;

const notDrill = (i: Incident) => i.action !== 'drill';

/** How long an incident must stay clear before it resolves: its alert's short window. */
function holdDownMs(policy: Policy, alert: string): number {
  return policy.alerts.find((a) => a.name === alert)?.short.ms ?? FALLBACK_HOLD_MS;
}

const minutes = (ms: number) => `${Math.round(ms / 60_000)}m`;
const x = (n: number) => `${n.toFixed(1)}x`;

export class Alerting {
  private readonly o: AlertingOptions;
  constructor(o: AlertingOptions) {
    this.o = o;
  }

  notifier(policy: Policy): Notifier {
    return new Notifier({
      oncall: policy.oncall,
      env: this.o.env,
      ledger: this.o.ledger,
      ...(this.o.fetch ? { fetch: this.o.fetch } : {}),
    });
  }

  async onEvaluated(e: Evaluated): Promise<void> {
    // No numbers: nothing can be said about an alert, firing or clear.
    if (e.telemetryError !== null) return;
    const { incidents } = this.o;
    const repo = e.repo.full_name;
    const notifier = this.notifier(e.policy);
    // A drill's record is the drill's (budget-gate drill): it is not firing, clearing or escalating.
    const open = (await incidents.openFor(repo)).filter(notDrill);
    const firingKeys = new Set<string>();
    const opened: Array<[Incident, FiringAlert]> = [];
    const facts = {
      oncall: e.policy.oncall,
      at: e.at,
      server: botServer(this.o.env),
      branch: e.repo.default_branch,
      decision: dashboardLink(this.o.env, repo) ?? NO_DASHBOARD,
    };

    for (const a of e.decision.alerts) {
      const event = alertEvent(repo, a, facts);
      firingKeys.add(event.key);
      let inc = open.find((i) => i.key === event.key) ?? null;
      if (!inc) {
        inc = await incidents.open(
          {
            key: event.key,
            repo,
            installation_id: e.repo.installation_id,
            slo: a.slo,
            alert: a.name,
            severity: a.severity,
            action: a.action,
          },
          e.at,
        );
        await incidents.note(inc, {
          at: e.at,
          kind: 'fired',
          text: `${a.severity} ${a.name} on ${a.slo} fired: ${x(a.long_burn)} over ${a.long} and ${x(a.short_burn)} over ${a.short} (alert at ${a.burn_rate}x)`,
        });
        opened.push([inc, a]);
      } else if (inc.clear_since !== null) {
        await incidents.firing(inc, e.at);
        await incidents.note(inc, {
          at: e.at,
          kind: 'firing-again',
          text: `firing again after ${minutes(e.at - inc.clear_since)} clear: the same incident`,
        });
      } else {
        await incidents.firing(inc, e.at);
      }
      // A ticket pages no one; a page goes out by severity, once (the ledger remembers), and a
      // sev2 left open past the business day is paged again as sev1 by the same call.
      if (a.action === 'page') {
        const [d] = await notifier.send([event], e.at);
        if (d) await this.noteDelivery(inc, d, e.at);
      }
    }

    for (const inc of open) {
      if (firingKeys.has(inc.key)) continue;
      const hold = holdDownMs(e.policy, inc.alert);
      if (inc.clear_since === null) {
        await incidents.clear(inc, e.at);
        await incidents.note(inc, {
          at: e.at,
          kind: 'clear',
          text: `stopped firing; resolves if it stays clear for ${minutes(hold)} (the alert's short window)`,
        });
        continue;
      }
      if (e.at - inc.clear_since < hold) continue;
      if (inc.acked_at !== null) {
        if (inc.recovered_at === null && (await incidents.recovered(inc, e.at))) {
          const text = `recovered: clear for ${minutes(e.at - inc.clear_since)}; acknowledged by ${inc.acked_by ?? 'someone'}, who closes it (close the incident issue or resolve it in PagerDuty)`;
          await incidents.note(inc, { at: e.at, kind: 'recovered', text });
          await this.slackNote(e.policy, `Recovered: \`${inc.key}\` — ${text}`);
        }
        continue;
      }
      if (inc.action === 'page') {
        const d = await notifier.resolve(inc.key, e.at);
        await this.noteDelivery(inc, d, e.at);
        if (d.errors.length > 0) continue; // tried again at the next evaluation
      }
      if (await incidents.resolve(inc, e.at, 'budget-gate')) {
        await incidents.note(inc, {
          at: e.at,
          kind: 'resolved',
          text: `resolved: clear for ${minutes(e.at - inc.clear_since)}, longer than the ${minutes(hold)} short window`,
        });
      }
    }

    for (const inc of (await incidents.openFor(repo)).filter(notDrill)) await this.escalate(inc, e);

    // The record is opened once the first pages are in its timeline.
    for (const [inc, a] of opened) await this.hook(() => this.o.hooks?.opened?.(inc, e, a), repo);
    for (const inc of (await incidents.openFor(repo)).filter(notDrill))
      await this.hook(() => this.o.hooks?.changed?.(inc, e), repo);
    // Resolved by this evaluation, or by a person (PagerDuty, the issue): the record is closed.
    for (const inc of (await incidents.closedElsewhere(repo)).filter(notDrill))
      await this.hook(() => this.o.hooks?.changed?.(inc, e), repo);
    // A person resolved it while the page was open: PagerDuty and the channel are told, and the
    // ledger is closed, so a later burn pages again as a new incident.
    for (const rec of await this.o.ledger.open(repo)) {
      if (rec.kind !== 'alert' || firingKeys.has(rec.key)) continue;
      const last = await incidents.byKey(rec.key);
      if (last && last.resolved_at !== null) await notifier.resolve(rec.key, e.at);
    }
  }

  /**
   * Walks the policy's escalation path while nobody acknowledges: step k is due `after` its
   * offset from when the page went out (a sev2 raised out of hours: when business hours begin).
   * Each step is taken once across replicas (a compare-and-set on the step), posted to the channel
   * and commented on the incident issue, naming the person.
   */
  private async escalate(inc: Incident, e: Evaluated): Promise<void> {
    if (inc.action !== 'page' || inc.acked_at !== null || inc.resolved_at !== null) return;
    const oncall = e.policy.oncall;
    const first = routeSeverity(oncall, inc.severity, inc.opened_at, inc.opened_at);
    const pagedAt = first.page ? inc.opened_at : first.page_at;
    if (pagedAt === null || e.at < pagedAt) return;
    const path = escalationPath(oncall, pagedAt);
    let step = inc.escalation_step;
    while (step + 1 < path.length && e.at >= pagedAt + path[step + 1]!.after) {
      const target = path[step + 1]!;
      if (!(await this.o.incidents.escalate(inc, step, e.at))) return;
      step++;
      const text = `escalated to @${target.login} (${target.role}): not acknowledged ${minutes(e.at - pagedAt)} after the page`;
      await this.o.incidents.note(inc, { at: e.at, kind: 'escalated', text });
      await this.slackNote(e.policy, `Escalated: \`${inc.key}\` — ${text}`);
      await this.hook(() => this.o.hooks?.escalated?.(inc, e, target.login, text), inc.repo);
    }
  }

  private async noteDelivery(inc: Incident, d: Delivery, at: number): Promise<void> {
    const what: Record<string, string> = {
      'pagerduty-trigger': `paged through PagerDuty (${d.why})`,
      'pagerduty-resolve': 'resolved in PagerDuty',
      slack: `posted to Slack (${d.why})`,
    };
    for (const s of d.sent) await this.o.incidents.note(inc, { at, kind: s, text: what[s] ?? s });
    for (const err of d.errors) await this.o.incidents.note(inc, { at, kind: 'send-failed', text: err });
    if (d.errors.length > 0) this.o.log.warn(`${inc.key}: ${d.errors.join('; ')}`);
  }

  private async slackNote(policy: Policy, text: string): Promise<void> {
    const n = policy.oncall.notify.slack;
    const url = n ? this.o.env[n.webhook_url_env] : undefined;
    if (!n || !url) return;
    await sendSlack(url, n.webhook_url_env, slackNote(text), this.o.fetch ?? fetch).catch((err: Error) =>
      this.o.log.warn(err.message),
    );
  }

  private async hook(fn: () => Promise<void> | undefined, repo: string): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.o.log.warn(`${repo}: incident record not updated: ${(err as Error).message}`);
    }
  }
}
