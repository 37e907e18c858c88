import { type PostOptions, postJson } from '../net/post-json.ts';
import type { NotifyEvent } from './events.ts';
import { type Link, oncallText, type PageContext } from './links.ts';

// A Slack incoming webhook: the URL is the secret and the channel is bound to it. Slack answers a
// plain `ok`, or an error word such as invalid_payload, channel_not_found or channel_is_archived.

export interface SlackMessage {
  text: string;
  blocks: Array<Record<string, unknown>>;
}

/**
 * Text as Slack shows it: `&`, `<` and `>` are its control characters (`<!channel>` pings
 * everyone, `<url|text>` is a link), so text from a summary, a key or a name is escaped.
 */
export const slackEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** `<url|text>`: the URL is escaped the same way (Slack reads `&amp;` back), a `|` in it encoded. */
const slackLink = (l: Link) => `<${slackEscape(l.href).replace(/\|/g, '%7C')}|${slackEscape(l.text)}>`;

// Slack's block limits: a section's text at most 3000 characters, a field at most 2000.
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The three things the on-call needs first, as section fields. */
function contextFields(c: PageContext): Array<Record<string, unknown>> {
  const field = (title: string, body: string) => ({
    type: 'mrkdwn',
    text: clip(`*${title}*\n${body}`, 2000),
  });
  return [
    field('Runbook', c.runbook ? slackLink(c.runbook) : slackEscape(`none: ${c.runbook_missing}`)),
    field('On call', slackEscape(oncallText(c))),
    field('Decision', c.decision ? slackLink(c.decision) : slackEscape(c.decision_missing ?? 'not linked')),
  ];
}

export function slackMessage(e: NotifyEvent, headline: string, why: string): SlackMessage {
  const others = e.links.filter(
    (l) =>
      l.href !== e.context.runbook?.href &&
      l.href !== e.context.decision?.href &&
      !l.text.startsWith('on call:'),
  );
  const tail = [slackEscape(why), ...others.map(slackLink), `key \`${slackEscape(e.key)}\``].join(' · ');
  return {
    text: clip(`${headline}: ${e.summary}`, 3000),
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: clip(`*${slackEscape(headline)}*\n${slackEscape(e.summary)}`, 3000) },
      },
      { type: 'section', fields: contextFields(e.context) },
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(tail, 3000) }] },
    ],
  };
}

/** A one-line note (resolved, escalated, recovered), escaped. */
export function slackNote(text: string): SlackMessage {
  return {
    text: clip(text, 3000),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(slackEscape(text), 3000) } }],
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
