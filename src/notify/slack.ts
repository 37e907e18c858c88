import type { NotifyEvent } from './events.ts';

// A Slack incoming webhook: the URL is the secret and the channel is bound to it. Slack answers a
// plain `ok`, or an error word such as invalid_payload, channel_not_found or channel_is_archived.

export interface SlackMessage {
  text: string;
  blocks: Array<Record<string, unknown>>;
}

export function slackMessage(e: NotifyEvent, headline: string, why: string): SlackMessage {
  const links = e.links.map((l) => `<${l.href}|${l.text}>`).join(' · ');
  return {
    text: `${headline}: ${e.summary}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${headline}*\n${e.summary}` } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `${why}${links ? ` · ${links}` : ''} · key \`${e.key}\`` }],
      },
    ],
  };
}

/** `envName` names the variable in errors; the URL itself is never printed. */
export async function sendSlack(
  url: string,
  envName: string,
  msg: SlackMessage,
  fetchFn = fetch,
): Promise<void> {
  const res = await fetchFn(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(msg),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.ok) return;
  const word = (await res.text().catch(() => '')).slice(0, 100);
  throw new Error(`Slack webhook (${envName}) answered ${res.status} ${word}`);
}
