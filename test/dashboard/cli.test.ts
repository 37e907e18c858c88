import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cli, DEMO_ARGS } from '../support/cli.ts';

// `budget-gate dashboard`'s refusals (its serving is tested in Chromium: test/browser) and the
// demo pointing at it.

describe('budget-gate dashboard', () => {
  it('says what it serves and that there is no deploy replay locally', async () => {
    const r = await cli(['dashboard', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--port N/);
    expect(r.stdout).toMatch(/default 127\.0\.0\.1/);
    expect(r.stdout).toMatch(/no deployment markers/);
  });

  it('refuses a bad port, a missing policy and a bad --repo with exit 2, before serving', async () => {
    expect(await cli(['dashboard', '--port', '70000'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--port 70000: expected a whole number from 0 to 65,535/),
    });
    expect(await cli(['dashboard', '--policy', 'nope.yml', '--telemetry', 'x.jsonl'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/cannot read policy nope\.yml/),
    });
    expect(
      await cli([
        'dashboard',
        '--policy',
        'examples/error-budget.yml',
        '--telemetry',
        'examples/telemetry/demo.jsonl.gz',
        '--repo',
        '<x>',
      ]),
    ).toMatchObject({ code: 2, stderr: expect.stringMatching(/--repo <x>: expected OWNER\/NAME/) });
  });

  it('says so when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((ok) => taken.listen(0, '127.0.0.1', ok));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await cli(['dashboard', ...DEMO_ARGS, '--port', String(port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--port ${port}: already in use (try --port 0)`);
    } finally {
      taken.close();
    }
  });

  it('is where the demo sends people next', async () => {
    const r = await cli(['demo']);
    expect(r.stdout).toContain(
      'budget-gate dashboard --policy examples/error-budget.yml --telemetry examples/telemetry/demo.jsonl.gz --at 2026-11-20T09:00:00.000Z',
    );
  });
});
