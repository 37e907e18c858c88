import { clockOf, endOfBusinessDay, inBusinessHours, nextBusinessStart, responderAt } from './rotation.ts';
import type { OncallPolicy, Severity } from './schema.ts';
import { formatWall } from './zone.ts';

// What a severity does at an instant: page now, post to the channel and page later, or post only.
// Pure: the notifier (src/notify) acts on this value and keeps the record of what it sent.

export interface Route {
  /** The severity as raised. */
  raised: Severity;
  /** After promotion: a sev2 still open at the end of its business day is handled as sev1. */
  severity: Severity;
  page: boolean;
  /** Not paging now but will, if still open, at this instant (a sev2 raised out of hours). */
  page_at: number | null;
  /** When it is promoted if still open (null when the severity has no `unresolved_becomes`). */
  promote_at: number | null;
  channel: string | null;
  owner: string | null;
  /** One sentence: what happens and why. */
  why: string;
}

export function routeSeverity(o: OncallPolicy, raised: Severity, raisedAt: number, at: number): Route {
  const first = o.severities[raised];
  let severity = raised;
  let promote_at: number | null = null;
  if (first.unresolved_becomes) {
    promote_at = endOfBusinessDay(o, raisedAt);
    if (at >= promote_at) severity = first.unresolved_becomes;
  }
  const rule = o.severities[severity];
  // Said on the clock of whoever answers now: "it is 15:00" means their 15:00.
  const zone = clockOf(o, responderAt(o, at)).zone;
  const channel = rule.channel ?? first.channel ?? null;
  const owner = rule.owner ?? first.owner ?? null;
  const promoted =
    severity !== raised
      ? `${raised} raised ${formatWall(raisedAt, zone)} and still open: now ${severity}; `
      : '';
  const where = channel ? `posted to ${channel}${owner ? ` (owner ${owner})` : ''}` : 'posted to the channel';

  const route = (page: boolean, page_at: number | null, why: string) => ({
    raised,
    severity,
    page,
    page_at,
    promote_at,
    channel,
    owner,
    why: `${promoted}${severity} ${why}`,
  });
  if (rule.page === 'always') return route(true, null, 'pages at any hour');
  if (rule.page === 'never')
    return route(
      false,
      null,
      `never pages: ${where}${owner ? '' : '; name an owner in oncall.severities.' + severity + '.owner so it is somebody’s job'}`,
    );
  if (inBusinessHours(o, at))
    return route(true, null, `pages in business hours, and it is ${formatWall(at, zone)}`);
  const next = nextBusinessStart(o, at);
  const later = promote_at !== null && promote_at > at && promote_at < next ? promote_at : next;
  return route(
    false,
    later,
    `pages in business hours only and it is ${formatWall(at, zone)}: ${where} now, paged at ${formatWall(later, zone)} if still open${promote_at !== null && severity === raised ? `, ${first.unresolved_becomes} from ${formatWall(promote_at, zone)}` : ''}`,
  );
}

/** PagerDuty's four severities, from ours. */
export const PAGERDUTY_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning'> = {
  sev1: 'critical',
  sev2: 'error',
  sev3: 'warning',
};
