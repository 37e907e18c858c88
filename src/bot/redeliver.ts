import { z } from 'zod';
import type { GitHubClient } from '../github/octokit.ts';
import { parseReply } from '../github/reply.ts';
import type { BotLog } from './log.ts';

// GitHub does not redeliver a webhook by itself: a delivery sent while the bot was down,
// restarting or crashing mid-handler (no 2xx answer) is recorded as a failed delivery and that is
// all. Nor does a 2xx mean the work was done: Probot answers 202 to a handler still running after
// a few seconds, and that handler may fail later. So the bot records each delivery whose handler
// completed (the store's `deliveries`), and on start and periodically lists its App's recent
// deliveries (app JWT: GET /app/hook/deliveries) and asks again
// (POST /app/hook/deliveries/{id}/attempts) for each one it cares about that no handler completed.
// Handlers are idempotent on keys from the signed body (the deployment id, the label currently on
// the pull request, the audit record's use), so an event delivered twice — two replicas both
// asking, GitHub's first try arriving late, or a replay — acts once.

const deliveryItemSchema = z.object({
  id: z.number(),
  guid: z.string(),
  delivered_at: z.string(),
  redelivery: z.boolean(),
  status: z.string(),
  status_code: z.number(),
  event: z.string(),
  action: z.string().nullable(),
});
export type DeliveryItem = z.output<typeof deliveryItemSchema>;

/**
 * Deliveries worth asking again for, as `event` or `event.action`: a lost deployment_status leaves
 * a deployment unwatched, a lost protection rule leaves one waiting for a person, a lost label
 * leaves an unauthorized override on a pull request.
 */
export const RECOVERED_EVENTS = [
  'deployment_status',
  'deployment_protection_rule.requested',
  'pull_request.labeled',
];

/** A 2xx with no completed handler is only suspect once a handler would have finished. */
const HANDLER_GRACE_MS = 2 * 60_000;

const ok = (d: DeliveryItem) => d.status_code >= 200 && d.status_code < 300;
const recovered = (d: DeliveryItem, events: readonly string[]) =>
  events.includes(d.event) || (d.action !== null && events.includes(`${d.event}.${d.action}`));

export interface MissedOptions {
  /** Deliveries whose handler completed; without it, only failed attempts count as missed. */
  handled?: ReadonlySet<string>;
  now?: number;
  graceMs?: number;
}

/**
 * The deliveries to ask again for: per event (guid) within the horizon, when no attempt succeeded
 * — or one did but no handler completed it, long enough ago — its latest attempt. Pure, so the
 * choice is tested without GitHub.
 */
export function missedDeliveries(
  items: readonly DeliveryItem[],
  events: readonly string[],
  since: number,
  opts: MissedOptions = {},
): DeliveryItem[] {
  const byGuid = new Map<string, DeliveryItem[]>();
  for (const d of items) {
    if (!recovered(d, events) || Date.parse(d.delivered_at) < since) continue;
    const list = byGuid.get(d.guid);
    if (list) list.push(d);
    else byGuid.set(d.guid, [d]);
  }
  const missed: DeliveryItem[] = [];
  for (const [guid, attempts] of byGuid) {
    const latest = attempts.reduce((a, b) =>
      Date.parse(b.delivered_at) > Date.parse(a.delivered_at) ? b : a,
    );
    if (attempts.some(ok)) {
      const h = opts.handled;
      const settled =
        opts.now === undefined ||
        Date.parse(latest.delivered_at) <= opts.now - (opts.graceMs ?? HANDLER_GRACE_MS);
      if (!h || h.has(guid) || !settled) continue;
    }
    missed.push(latest);
  }
  return missed.sort((a, b) => Date.parse(a.delivered_at) - Date.parse(b.delivered_at));
}

const nextCursor = (link: string | undefined): string | null => {
  const next = link?.split(',').find((p) => /rel="next"/.test(p));
  const url = next && /<([^>]+)>/.exec(next)?.[1];
  return url ? new URL(url).searchParams.get('cursor') : null;
};

export interface RecoveryReport {
  listed: number;
  redelivered: DeliveryItem[];
  errors: string[];
}

/** Lists deliveries newest first back to `since` (at most `maxPages` pages) and redelivers the missed. */
export async function recoverMissedDeliveries(
  app: GitHubClient,
  opts: {
    since: number;
    log: BotLog;
    events?: readonly string[];
    maxPages?: number;
    /** The deliveries whose handler completed since `since` (the store's record). */
    handled?: (since: number) => Promise<ReadonlySet<string>>;
    now?: number;
    graceMs?: number;
  },
): Promise<RecoveryReport> {
  const items: DeliveryItem[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < (opts.maxPages ?? 10); page++) {
    const res = await app.request('GET /app/hook/deliveries', {
      per_page: 100,
      ...(cursor ? { cursor } : {}),
    });
    const got = parseReply(z.array(deliveryItemSchema), res.data, 'GET /app/hook/deliveries');
    items.push(...got);
    cursor = nextCursor(res.headers.link);
    const oldest = got.at(-1);
    if (!cursor || !oldest || Date.parse(oldest.delivered_at) < opts.since) break;
  }
  const report: RecoveryReport = { listed: items.length, redelivered: [], errors: [] };
  const handled = opts.handled ? await opts.handled(opts.since) : undefined;
  const missed = missedDeliveries(items, opts.events ?? RECOVERED_EVENTS, opts.since, {
    ...(handled ? { handled } : {}),
    ...(opts.now !== undefined ? { now: opts.now } : {}),
    ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
  });
  for (const d of missed) {
    try {
      await app.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: d.id });
      report.redelivered.push(d);
      opts.log.info(
        `webhook ${d.event} ${d.guid} ${ok(d) ? `was answered ${d.status_code} but no handler finished it` : `was not delivered (${d.status_code || d.status})`} at ${d.delivered_at}: asked GitHub to deliver it again`,
      );
    } catch (e) {
      const msg = `webhook ${d.event} ${d.guid}: redelivery refused: ${(e as Error).message}`;
      report.errors.push(msg);
      opts.log.warn(msg);
    }
  }
  return report;
}
