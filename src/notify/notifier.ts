import type { PostOptions } from '../net/post-json.ts';
import type { LedgerEntry, NotifyLedger } from '../policy/oncall/ports.ts';
import { routeSeverity } from '../policy/oncall/routing.ts';
import type { OncallPolicy } from '../policy/oncall/schema.ts';
import type { NotifyEvent } from './events.ts';
import { PAGERDUTY_ENQUEUE, PAGERDUTY_URL_ENV, sendPagerDuty, triggerBody } from './pagerduty.ts';
import { sendSlack, slackEscape, slackMessage } from './slack.ts';

// Turns events into pages and channel posts by the policy's severity routing, once each. A send
// that fails is not recorded, so the next run tries it again; one that succeeded is never repeated.

export interface NotifierOptions {
  oncall: OncallPolicy;
  env: Record<string, string | undefined>;
  ledger: NotifyLedger;
  fetch?: typeof fetch;
  /** How sends are retried (429, 5xx, no answer): attempts, waits, and the sleep (tests pass their own). */
  retry?: Pick<PostOptions, 'sleep' | 'backoffMs' | 'attempts'>;
}

export interface Delivery {
  key: string;
  /** What was sent: pagerduty-trigger, pagerduty-resolve, slack. */
  sent: string[];
  /** The routing decision, in a sentence. */
  why: string;
  errors: string[];
  /**
   * A page was due and no paging service accepted it (no routing key, or PagerDuty refused):
   * the reason. A sev1 left undelivered is what the on-call must hear about loudly.
   */
  undelivered: string | null;
  /** The severity it was routed at (a sev2 promoted at the end of the day reads sev1). */
  severity: string;
}

export class Notifier {
  private readonly o: NotifierOptions;
  constructor(o: NotifierOptions) {
    this.o = o;
  }

  /** Missing secrets, named: the policy asks for a channel whose variable is not set. */
  configProblems(): string[] {
    const n = this.o.oncall.notify;
    const out: string[] = [];
    if (n.pagerduty && !this.o.env[n.pagerduty.routing_key_env])
      out.push(`oncall.notify.pagerduty: ${n.pagerduty.routing_key_env} is not set, so nothing can page`);
    if (n.slack && !this.o.env[n.slack.webhook_url_env])
      out.push(`oncall.notify.slack: ${n.slack.webhook_url_env} is not set, so nothing reaches the channel`);
    return out;
  }

  private get routingKey() {
    const n = this.o.oncall.notify.pagerduty;
    return n ? (this.o.env[n.routing_key_env] ?? null) : null;
  }
  private get pagerdutyUrl() {
    return this.o.env[PAGERDUTY_URL_ENV] || PAGERDUTY_ENQUEUE;
  }
  private get slack() {
    const n = this.o.oncall.notify.slack;
    const url = n ? this.o.env[n.webhook_url_env] : undefined;
    return n && url ? { url, env: n.webhook_url_env } : null;
  }

  /** Sends what each event's route calls for and has not been sent yet. */
  async send(events: NotifyEvent[], at: number): Promise<Delivery[]> {
    const out: Delivery[] = [];
    for (const e of events) out.push(await this.one(e, at));
    return out;
  }

  private async one(e: NotifyEvent, at: number): Promise<Delivery> {
    const prior = await this.o.ledger.get(e.key);
    const rec: LedgerEntry =
      prior && prior.resolved_at === null
        ? prior
        : {
            key: e.key,
            repo: e.repo,
            kind: e.kind,
            severity: e.severity,
            raised_at: at,
            paged: [],
            posted: [],
            resolved_at: null,
          };
    const route = routeSeverity(this.o.oncall, e.severity, rec.raised_at, at);
    const d: Delivery = {
      key: e.key,
      sent: [],
      why: route.why,
      errors: [],
      undelivered: null,
      severity: route.severity,
    };
    const fetchFn = this.o.fetch ?? fetch;

    const pdKey = route.severity === route.raised ? e.key : `${e.key}:${route.severity}`;
    const stage = !route.page ? 'raised' : route.severity === route.raised ? 'paged' : 'promoted';
    if (route.page && !rec.paged.includes(pdKey)) {
      const routingKey = this.routingKey;
      if (!routingKey) {
        d.undelivered = this.o.oncall.notify.pagerduty
          ? `${this.o.oncall.notify.pagerduty.routing_key_env} is not set, so PagerDuty cannot be asked`
          : 'oncall.notify names no pagerduty, so nothing can page';
        d.errors.push(`${e.key}: ${route.severity} page not delivered: ${d.undelivered}`);
      } else {
        try {
          await sendPagerDuty(
            triggerBody(routingKey, e, route.severity, pdKey, at),
            fetchFn,
            this.pagerdutyUrl,
            this.o.retry,
          );
          rec.paged.push(pdKey);
          d.sent.push('pagerduty-trigger');
        } catch (err) {
          d.undelivered = (err as Error).message;
          d.errors.push((err as Error).message);
        }
      }
    }
    // "paged" only when PagerDuty accepted this page (now or on an earlier run).
    const paged = rec.paged.includes(pdKey);
    const slack = this.slack;
    // One post when raised, one when it pages later or is promoted: each says what changed.
    const due = !rec.posted.includes(stage) && (stage !== 'raised' || rec.posted.length === 0);
    if (slack && due) {
      const sev = route.severity.toUpperCase();
      const headline =
        stage === 'promoted'
          ? `${sev} (was ${route.raised}, still open)`
          : route.page
            ? paged
              ? `${sev} paged`
              : `${sev} NOT PAGED (${d.undelivered ?? 'no paging service accepted it'})`
            : sev;
      try {
        await sendSlack(slack.url, slack.env, slackMessage(e, headline, route.why), fetchFn, this.o.retry);
        for (const s of new Set([stage, 'raised'])) if (!rec.posted.includes(s)) rec.posted.push(s);
        d.sent.push('slack');
      } catch (err) {
        d.errors.push((err as Error).message);
      }
    }
    await this.o.ledger.put(rec);
    return d;
  }

  /**
   * A drill's test page: it goes the way a real page goes (the same routing key, endpoint, retries
   * and Slack webhook) whatever the hour, marked DRILL, and is recorded in no ledger.
   */
  async drill(e: NotifyEvent, at: number): Promise<Delivery> {
    const d: Delivery = {
      key: e.key,
      sent: [],
      why: 'a drill pages now',
      errors: [],
      undelivered: null,
      severity: e.severity,
    };
    const fetchFn = this.o.fetch ?? fetch;
    const routingKey = this.routingKey;
    if (routingKey) {
      try {
        await sendPagerDuty(
          triggerBody(routingKey, e, e.severity, e.key, at),
          fetchFn,
          this.pagerdutyUrl,
          this.o.retry,
        );
        d.sent.push('pagerduty');
      } catch (err) {
        d.undelivered = (err as Error).message;
        d.errors.push((err as Error).message);
      }
    } else if (this.o.oncall.notify.pagerduty) {
      d.undelivered = `${this.o.oncall.notify.pagerduty.routing_key_env} is not set, so PagerDuty cannot be asked`;
      d.errors.push(`${e.key}: drill page not delivered: ${d.undelivered}`);
    }
    const slack = this.slack;
    if (slack) {
      try {
        await sendSlack(
          slack.url,
          slack.env,
          slackMessage(e, `DRILL (${e.severity} test page)`, d.why),
          fetchFn,
          this.o.retry,
        );
        d.sent.push('slack');
      } catch (err) {
        d.errors.push((err as Error).message);
      }
    }
    return d;
  }

  /** Ends a drill's page in PagerDuty (no-op without a routing key). */
  async endDrill(key: string): Promise<string | null> {
    const routingKey = this.routingKey;
    if (!routingKey) return null;
    try {
      await sendPagerDuty(
        { routing_key: routingKey, event_action: 'resolve', dedup_key: key },
        this.o.fetch ?? fetch,
        this.pagerdutyUrl,
        this.o.retry,
      );
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** Resolves what is open for the repo (of the given kinds) and not among `current`. */
  async settle(repo: string, kinds: string[], current: string[], at: number): Promise<Delivery[]> {
    const out: Delivery[] = [];
    for (const rec of await this.o.ledger.open(repo)) {
      if (!kinds.includes(rec.kind) || current.includes(rec.key)) continue;
      out.push(await this.resolve(rec.key, at));
    }
    return out;
  }

  async resolve(key: string, at: number): Promise<Delivery> {
    const rec = await this.o.ledger.get(key);
    const d: Delivery = {
      key,
      sent: [],
      why: 'no longer firing',
      errors: [],
      undelivered: null,
      severity: rec?.severity ?? 'unknown',
    };
    if (!rec || rec.resolved_at !== null) return d;
    const fetchFn = this.o.fetch ?? fetch;
    const routingKey = this.routingKey;
    for (const k of [...rec.paged]) {
      if (!routingKey) break;
      try {
        await sendPagerDuty(
          { routing_key: routingKey, event_action: 'resolve', dedup_key: k },
          fetchFn,
          this.pagerdutyUrl,
          this.o.retry,
        );
        rec.paged = rec.paged.filter((p) => p !== k);
        d.sent.push('pagerduty-resolve');
      } catch (err) {
        d.errors.push((err as Error).message);
      }
    }
    const slack = this.slack;
    if (slack && rec.posted.length > 0 && !rec.posted.includes('resolved')) {
      try {
        await sendSlack(
          slack.url,
          slack.env,
          {
            text: `Resolved: ${key}`,
            blocks: [
              { type: 'section', text: { type: 'mrkdwn', text: `*Resolved* \`${slackEscape(key)}\`` } },
            ],
          },
          fetchFn,
          this.o.retry,
        );
        rec.posted.push('resolved');
        d.sent.push('slack');
      } catch (err) {
        d.errors.push((err as Error).message);
      }
    }
    if (d.errors.length === 0) rec.resolved_at = at;
    await this.o.ledger.put(rec);
    return d;
  }
}
