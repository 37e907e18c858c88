import { type PostOptions, postJson } from '../net/post-json.ts';
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

/** `envName` names the variable in errors; the URL (whose path is the secret) is never printed. */
export async function sendSlack(
  url: string,
  envName: string,
  msg: SlackMessage,
  fetchFn = fetch,
  retry: Pick<PostOptions, 'sleep' | 'backoffMs' | 'attempts'> = {},
): Promise<void> {
  const res = await postJson(url, msg, { service: `the Slack webhook (${envName})`, fetchFn, ...retry });
  if (res.status >= 200 && res.status < 300) return;
  const tries = res.attempts > 1 ? ` after ${res.attempts} attempts` : '';
  throw new Error(`Slack webhook (${envName}) answered ${res.status}${tries} ${res.text}`);
}
