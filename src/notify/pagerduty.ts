import { type PostOptions, postJson } from '../net/post-json.ts';
import { PAGERDUTY_SEVERITY } from '../policy/oncall/routing.ts';
import type { Severity } from '../policy/oncall/schema.ts';
import type { NotifyEvent } from './events.ts';
import { oncallText } from './links.ts';

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

// The Events API v2's documented limits (developer.pagerduty.com, "Send an Alert Event" and the
// Events API v2 overview): summary at most 1024 characters, dedup_key at most 255, a whole event at
// most 512 KB; each link needs an `href`, its `text` is optional. A page past a limit is refused
// (400) and pages nobody, so the body is made to fit here rather than trusted to.
export const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255, bytes: 512 * 1024 } as const;
/** Our own bounds, far inside the event's: a page is read on a phone. */
const MAX_LINKS = 20;
const MAX_LINK_TEXT = 256;

const clipText = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

export function triggerBody(
  routingKey: string,
  e: NotifyEvent,
  severity: Severity,
  dedupKey: string,
  at: number,
): PagerDutyTrigger {
  const c = e.context;
  const body: PagerDutyTrigger = {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: clipText(e.summary, PAGERDUTY_LIMITS.summary),
      source: e.repo,
      severity: PAGERDUTY_SEVERITY[severity],
      timestamp: new Date(at).toISOString(),
      ...(e.component ? { component: e.component } : {}),
      group: e.repo,
      class: e.kind,
      // What the on-call reads first, in the incident's details too: the links may be collapsed.
      custom_details: {
        ...e.details,
        runbook: c.runbook?.href ?? c.runbook_missing,
        on_call: oncallText(c),
        decision: c.decision?.href ?? c.decision_missing,
        severity,
      },
    },
    links: e.links
      .filter((l) => /^https?:\/\//i.test(l.href))
      .slice(0, MAX_LINKS)
      .map((l) => ({ href: l.href, text: clipText(l.text, MAX_LINK_TEXT) })),
    client: 'budget-gate',
  };
  return fitPagerDuty(body);
}

const byteLength = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

/**
 * Within 512 KB: the custom details give way first (the runbook, on-call and decision stay), then
 * the links beyond the first three. What was dropped is said in the details.
 */
function fitPagerDuty(body: PagerDutyTrigger): PagerDutyTrigger {
  if (byteLength(body) <= PAGERDUTY_LIMITS.bytes) return body;
  const d = body.payload.custom_details;
  const kept = {
    runbook: d.runbook,
    on_call: d.on_call,
    decision: d.decision,
    severity: d.severity,
    truncated: `the details were ${byteLength(d)} bytes, over PagerDuty's 512 KB event limit: dropped`,
  };
  const fitted = { ...body, payload: { ...body.payload, custom_details: kept } };
  if (byteLength(fitted) <= PAGERDUTY_LIMITS.bytes) return fitted;
  return { ...fitted, links: fitted.links.slice(0, 3) };
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
