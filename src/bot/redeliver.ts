import { z } from 'zod';
import type { GitHubClient } from '../github/octokit.ts';
import { parseReply } from '../github/reply.ts';
import type { BotLog } from './log.ts';

// GitHub does not redeliver a webhook by itself: a deployment_status sent while the bot was down,
// restarting or crashing mid-handler (no 2xx answer) is recorded as a failed delivery and that is
// all. On start and periodically the bot lists its App's recent deliveries (app JWT:
// GET /app/hook/deliveries) and asks again (POST /app/hook/deliveries/{id}/attempts) for each event
// none of whose attempts succeeded. Handlers are idempotent (the store is keyed by deployment id),
// so an event delivered twice — two replicas both asking, or GitHub's first try arriving late — is
// still watched once.

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

/** Events worth asking again for: the ones whose loss means a deployment goes unwatched. */
export const RECOVERED_EVENTS = ['deployment_status'];

const ok = (d: DeliveryItem) => d.status_code >= 200 && d.status_code < 300;

/**
 * The deliveries to ask again for: per event (guid) within the horizon, when no attempt succeeded,
 * its latest attempt. Pure, so the choice is tested without GitHub.
 */
export function missedDeliveries(
  items: readonly DeliveryItem[],
  events: readonly string[],
  since: number,
): DeliveryItem[] {
  const byGuid = new Map<string, DeliveryItem[]>();
  for (const d of items) {
    if (!events.includes(d.event) || Date.parse(d.delivered_at) < since) continue;
    const list = byGuid.get(d.guid);
    if (list) list.push(d);
    else byGuid.set(d.guid, [d]);
  }
  const missed: DeliveryItem[] = [];
  for (const attempts of byGuid.values()) {
    if (attempts.some(ok)) continue;
    missed.push(attempts.reduce((a, b) => (Date.parse(b.delivered_at) > Date.parse(a.delivered_at) ? b : a)));
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
  opts: { since: number; log: BotLog; events?: readonly string[]; maxPages?: number },
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
  for (const d of missedDeliveries(items, opts.events ?? RECOVERED_EVENTS, opts.since)) {
    try {
      await app.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: d.id });
      report.redelivered.push(d);
      opts.log.info(
        `webhook ${d.event} ${d.guid} was not delivered (${d.status_code || d.status}) at ${d.delivered_at}: asked GitHub to deliver it again`,
      );
    } catch (e) {
      const msg = `webhook ${d.event} ${d.guid}: redelivery refused: ${(e as Error).message}`;
      report.errors.push(msg);
      opts.log.warn(msg);
    }
  }
  return report;
}
