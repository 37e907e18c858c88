import { describe, expect, it } from 'vitest';
import { postJson } from '../../src/net/post-json.ts';
import { freePort } from '../support/ports.ts';

// A service nobody answers for: the message says which host, what failed and what to check, never
// the URL's path (a Slack webhook's path is its secret), and only after the retries.

describe('postJson when nothing answers', () => {
  it('names the host and the failure, not the path, after every attempt', async () => {
    const port = await freePort();
    const waits: number[] = [];
    const err = await postJson(
      `http://127.0.0.1:${port}/services/T000/B000/S3CRET`,
      { text: 'x' },
      { service: 'the Slack webhook (SLACK_WEBHOOK_URL)', sleep: async (ms) => void waits.push(ms) },
    ).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toBe(
      `could not reach the Slack webhook (SLACK_WEBHOOK_URL) at 127.0.0.1:${port} (ECONNREFUSED: nothing listens there): check the network, a proxy (HTTPS_PROXY), or the service's status; tried 3 times`,
    );
    expect(msg).not.toContain('S3CRET');
    expect(waits).toEqual([1000, 4000]);
  });
});
