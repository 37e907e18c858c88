import { type PostOptions, postJson } from '../net/post-json.ts';
import { PAGERDUTY_SEVERITY } from '../policy/oncall/routing.ts';
import type { Severity } from '../policy/oncall/schema.ts';
import type { NotifyEvent } from './events.ts';

// PagerDuty Events API v2: one endpoint, trigger and resolve correlated by dedup_key. A trigger with
// a dedup_key that already has an open alert does not page again, which backs up the ledger.

export const PAGERDUTY_ENQUEUE = 'https://events.pagerduty.com/v2/enqueue';
/** Where events go instead (a PagerDuty EU account's events.eu.pagerduty.com, or a test's stand-in). */
export const PAGERDUTY_URL_ENV = 'BUDGET_GATE_PAGERDUTY_EVENTS_URL';

export interface PagerDutyTrigger {
  routing_key: string;
  event_action: 'trigger';
  dedup_key: string;
  payload: {
    summary: string;
    source: string;
    severity: 'critical' | 'error' | 'warning' | 'info';
    timestamp: string;
    component?: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links: Array<{ href: string; text: string }>;
  client: string;
}

export interface PagerDutyResolve {
  routing_key: string;
  event_action: 'resolve';
  dedup_key: string;
}

export function triggerBody(
  routingKey: string,
  e: NotifyEvent,
  severity: Severity,
  dedupKey: string,
  at: number,
): PagerDutyTrigger {
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: e.summary,
      source: e.repo,
      severity: PAGERDUTY_SEVERITY[severity],
      timestamp: new Date(at).toISOString(),
      ...(e.component ? { component: e.component } : {}),
      group: e.repo,
      class: e.kind,
      custom_details: { ...e.details, severity },
    },
    links: e.links,
    client: 'budget-gate',
  };
}

/** Posts one event, retried on 429, 5xx and no answer; the routing key never appears in an error. */
export async function sendPagerDuty(
  body: PagerDutyTrigger | PagerDutyResolve,
  fetchFn = fetch,
  url = PAGERDUTY_ENQUEUE,
  retry: Pick<PostOptions, 'sleep' | 'backoffMs' | 'attempts'> = {},
): Promise<void> {
  const res = await postJson(url, body, { service: 'PagerDuty', fetchFn, ...retry }).catch((e: Error) => {
    throw new Error(`PagerDuty ${body.event_action} ${body.dedup_key}: ${e.message}`);
  });
  if (res.status === 202) return;
  const tries = res.attempts > 1 ? ` after ${res.attempts} attempts` : '';
  const why =
    res.status === 429
      ? `rate limited (429)${tries}: it is sent again at the next run`
      : res.status === 400
        ? `refused the event (400): ${res.text}`
        : `answered ${res.status}${tries}: ${res.text}`;
  throw new Error(`PagerDuty ${body.event_action} ${body.dedup_key}: ${why}`);
}
