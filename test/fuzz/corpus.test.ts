import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLEASE_REPORT } from '../../src/cli/main.ts';
import { AT, workspace } from '../action/runner.ts';
import { payload } from '../action/support.ts';
import { type FakeGitHub, startGitHub } from '../support/github-server.ts';
import { tempDir } from '../support/tasks.ts';
import { ACTION, BIN, HOSTILE, type Limits, type ProcessRun, runProcess, STACK } from './run.ts';

// The corpus: each input that once crashed, hung or passed silently, kept as a named fixture
// (test/fixtures/hostile/) and run as a user would run it, in a child process under a heap cap
// and a kill timer. Each must end in a located message and the right exit status.

const AT_ISO = new Date(AT).toISOString();
const fixture = (p: string) => join(HOSTILE, p);

function clean(r: ProcessRun): void {
  expect(r.killed, 'the kill timer fired').toBe(false);
  expect(r.signal).toBeNull();
  expect(r.stderr + r.stdout).not.toMatch(STACK);
  expect(r.stderr + r.stdout).not.toContain(PLEASE_REPORT);
}

const GOOD_TELEMETRY = tempDir('bg-corpus-');
writeFileSync(join(GOOD_TELEMETRY, 't.jsonl'), '{"time":"2026-11-19T12:00:00Z","ok":true}\n');

describe('hostile policies: lint and evaluate refuse them, located, exit 2', () => {
  it.each([
    ['alias-bomb.yml', /alias-bomb\.yml:4:\d+: YAML: Excessive alias count/],
    ['deep-nesting.yml', /deep-nesting\.yml:\d+:\d+: YAML: /],
    ['window-huge.yml', /:6:\d+ slos\[0\]\.window: 99999999999999999999d is too long: at most 366d/],
    [
      'window-1ms.yml',
      /:6:\d+ slos\[0\]\.window: 1ms is too short: at most|slos\[0\]\.window: 1ms is too short: at least 1h/,
    ],
    ['expires-huge.yml', /overrides\.expires_after: 99999999999999999999d is too long: at most 366d/],
    ['interval-1ms.yml', /auto_revert\.interval: 1ms is too short: at least 10s/],
    ['watch-endless.yml', /auto_revert\.within: 9999d is too long: at most 30d/],
    ['interval-beyond-watch.yml', /auto_revert\.interval: interval 1h is longer than the 10m watch/],
    [
      'soft-above-hard.yml',
      /states\.soft_pause\.consumed: soft-pause at 0\.9 consumed is above hard-pause at 0\.6/,
    ],
    [
      'lookback-beyond-window.yml',
      /states\.soft_pause\.pace_lookback: pace_lookback 14d is longer than the 7d window of slos\[0\]/,
    ],
    ['glob-pathological.yml', /risk\.rules\[0\]\.paths\[0\]: 9 `\*` in the segment "\*a\*a.*at most 2/],
    ['glob-extglob.yml', /risk\.rules\[0\]\.paths\[0\]: extended globs/],
    ['no-window-placeholder.yml', /slos\[0\]\.source\.prometheus\.bad: no \$\{window\}/],
  ])('%s', async (name, message) => {
    const file = fixture(`policy/${name}`);
    const lint = await runProcess([BIN, 'lint', file]);
    clean(lint);
    expect(lint.code).toBe(2);
    expect(lint.stderr).toMatch(message);
    const evaluate = await runProcess([
      BIN,
      'evaluate',
      '--policy',
      file,
      '--telemetry',
      join(GOOD_TELEMETRY, 't.jsonl'),
      '--at',
      AT_ISO,
    ]);
    clean(evaluate);
    expect(evaluate.code).toBe(2);
    expect(evaluate.stderr).toMatch(message);
  });
});

const POLICY = fixture('../action/error-budget.yml');
const evaluate = (telemetry: string, ...more: string[]) =>
  runProcess([BIN, 'evaluate', '--policy', POLICY, '--telemetry', telemetry, '--at', AT_ISO, ...more]);

describe('hostile telemetry: a located error, or a loud warning when most records count nowhere', () => {
  it.each([
    ['no-offset.jsonl', /no-offset\.jsonl:2: `time`: expected an ISO-8601 time with an offset/],
    ['odd-seconds.jsonl', /odd-seconds\.jsonl:2: `time`: expected an ISO-8601 time with an offset/],
    ['blank-seconds.jsonl', /blank-seconds\.jsonl:1: `time`/],
    ['feb-30.jsonl', /feb-30\.jsonl:3: `time`/],
    ['attrs-object.jsonl', /attrs-object\.jsonl:1: `attrs\.tier`: expected a string, number or boolean/],
    ['attrs-null.jsonl', /attrs-null\.jsonl:1: `attrs\.tier`: expected a string, number or boolean/],
    ['invalid-utf8.jsonl', /invalid-utf8\.jsonl:2: not valid UTF-8/],
  ])('%s', async (name, message) => {
    const r = await evaluate(fixture(`telemetry/${name}`));
    clean(r);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('records in epoch seconds: every one outside the window, said out loud with the likely cause', async () => {
    const r = await evaluate(fixture('telemetry/epoch-seconds.jsonl'));
    clean(r);
    expect(r.stdout).toMatch(/50 of 50 records of .*epoch-seconds\.jsonl \(100%\) fall outside every range/);
    expect(r.stdout).toContain('50 are before 1973: epoch seconds where epoch milliseconds are expected?');
  });

  it('records all in the future: said out loud', async () => {
    const r = await evaluate(fixture('telemetry/future.jsonl'));
    clean(r);
    expect(r.stdout).toMatch(/50 of 50 records .*fall outside every range.*50 are after the evaluation time/);
  });

  it('one 64 MB line is refused at the line cap, with the line number, in bounded memory', async () => {
    const dir = tempDir('bg-huge-');
    const file = join(dir, 'huge.jsonl');
    writeFileSync(file, `{"time":"2026-11-19T12:00:00Z","ok":true}\n{"pad":"${'a'.repeat(64 << 20)}"}\n`);
    // A heap far smaller than the line: it must be refused, not held.
    const r = await runProcess([BIN, 'evaluate', '--policy', POLICY, '--telemetry', file, '--at', AT_ISO], {
      heapMb: 48,
    });
    clean(r);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/huge\.jsonl:2: longer than 1048576 bytes/);
  });

  it.each([['-'], ['/dev/stdin']])('--telemetry %s reads a pipe, gzipped or not', async (path) => {
    const { gzipSync } = await import('node:zlib');
    // Tasks an hour before --at: current enough for the file's 6h max_data_age.
    const lines = `{"time":"${new Date(AT - 3_600_000).toISOString()}","ok":true}\n`.repeat(3);
    for (const stdin of [lines, gzipSync(lines)]) {
      const r = await runProcess(
        [BIN, 'evaluate', '--policy', POLICY, '--telemetry', path, '--at', AT_ISO, '--json'],
        {
          stdin,
        },
      );
      clean(r);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout).slos[0].events).toBe(3);
    }
  });
});

describe('hostile flags: named, bounded, exit 2', () => {
  it.each([
    [['--at', '99999999999999999'], /--at 99999999999999999: expected an ISO-8601 time/],
    [['--at', '2026-11-20T09:00:00'], /--at 2026-11-20T09:00:00: expected an ISO-8601 time with an offset/],
    [['--labels', 'override:slo-wrong', '--applied-at', 'nope'], /--applied-at nope: expected/],
    [['--last-push-at', '2026-02-30T00:00:00Z'], /--last-push-at 2026-02-30T00:00:00Z: expected/],
  ])('evaluate %j', async (flags, message) => {
    const r = await evaluate(join(GOOD_TELEMETRY, 't.jsonl'), ...flags);
    clean(r);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('evaluate --prometheus-timeout 99999d', async () => {
    const r = await runProcess([
      BIN,
      'evaluate',
      '--policy',
      POLICY,
      '--prometheus',
      'http://127.0.0.1:9',
      '--prometheus-timeout',
      '99999d',
      '--at',
      AT_ISO,
    ]);
    clean(r);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--prometheus-timeout 99999d: expected a duration from 100ms to 5m/);
  });

  it.each([
    [['--tasks-per-day', '1e12'], /--tasks-per-day 1e12: expected a whole number from 1 to 50,000/],
    [['--tasks-per-day=-5'], /--tasks-per-day -5: expected a whole number/],
    [['--seed', 'x'], /--seed x: expected a whole number/],
    [['--target', '1e-1x'], /--target 1e-1x: expected a fraction/],
  ])('simulate %j', async (flags, message) => {
    const r = await runProcess([BIN, 'simulate', ...flags]);
    clean(r);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

/** The Action from source as the runner starts it, against `apiUrl`, failing as it should. */
function runAction(
  apiUrl: string,
  eventName: string,
  eventFile: string,
  inputs: Record<string, string> = {},
  env: Record<string, string> = {},
  limits: Limits = {},
): Promise<ProcessRun> {
  const ws = workspace(0.02);
  const withInputs: Record<string, string> = {
    policy: '.github/error-budget.yml',
    token: 'ghs_corpus',
    'telemetry-file': 'telemetry.jsonl',
    'check-name': 'budget-gate',
    at: AT_ISO,
    ...inputs,
  };
  const e: Record<string, string> = {
    GITHUB_EVENT_NAME: eventName,
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_REPOSITORY: 'Codertocat/Hello-World',
    GITHUB_SHA: 'f'.repeat(40),
    GITHUB_WORKSPACE: ws,
    GITHUB_API_URL: apiUrl,
    GITHUB_OUTPUT: join(tempDir('bg-out-'), 'out'),
    GITHUB_STEP_SUMMARY: join(tempDir('bg-sum-'), 'sum'),
    ...env,
  };
  writeFileSync(e.GITHUB_OUTPUT!, '');
  writeFileSync(e.GITHUB_STEP_SUMMARY!, '');
  for (const [k, v] of Object.entries(withInputs)) e[`INPUT_${k.toUpperCase()}`] = v;
  return runProcess([ACTION], { env: e, cwd: ws, ...limits });
}

/** An exit 1 with a message and no stack: what the Action said. */
function failed(r: ProcessRun): string {
  clean(r);
  expect(r.code).toBe(1);
  return r.stdout;
}

// GitHub unreachable: the Action retries each request (plugin-retry: 1 s, 4 s, 9 s) before it gives
// up, most of a minute of waiting. It starts as this file loads and waits beside the other cases;
// its test below asserts on what it said.
const unreachable = (async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const dir = tempDir('bg-ev-');
  const event = join(dir, 'event.json');
  writeFileSync(event, JSON.stringify(payload('pull_request')));
  // Its kill timer as long as the test's own timeout: the waits are most of a minute by themselves.
  const run = await runAction(
    `http://127.0.0.1:${port}`,
    'pull_request',
    event,
    {},
    {},
    { killAfterMs: 90_000 },
  );
  return { port, run };
})();
unreachable.catch(() => {}); // its test awaits it and fails with the reason

describe('hostile Action input: each a named failure, no stack', () => {
  let gh: FakeGitHub;
  beforeAll(async () => {
    gh = await startGitHub();
  });
  afterAll(() => gh.close());

  const action = async (
    eventName: string,
    eventFile: string,
    inputs: Record<string, string> = {},
    env: Record<string, string> = {},
  ) => failed(await runAction(gh.url, eventName, eventFile, inputs, env));

  it.each([
    ['truncated.json', /::error::the event file .*truncated\.json is not valid JSON \(truncated\?\)/],
    ['empty.json', /::error::the event file .*empty\.json is empty/],
    ['bom.json', /::error::the pull_request event payload has no usable `pull_request`/],
    ['not-an-object.json', /::error::the pull_request event payload is not a JSON object/],
  ])('event file %s', async (name, message) => {
    expect(await action('pull_request', fixture(`event/${name}`))).toMatch(message);
  });

  it('an event path that is a directory', async () => {
    expect(await action('pull_request', HOSTILE)).toMatch(/::error::GITHUB_EVENT_PATH .* is a directory/);
  });

  it.each([
    [{ 'prometheus-url': 'http://[::1', 'telemetry-file': '' }, {}, /::error::input `prometheus-url`/],
    [
      {},
      { HTTPS_PROXY: 'proxy:3128:x' },
      /::error::HTTPS_PROXY is "proxy:3128:x": expected an http\(s\) URL/,
    ],
    [{}, { GITHUB_API_URL: 'not a url' }, /::error::GITHUB_API_URL is "not a url"/],
    [
      { 'telemetry-file': '../../../../etc/passwd' },
      {},
      /::error::input `telemetry-file`: \.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd is outside the workspace/,
    ],
    [
      { 'telemetry-file': '/etc/passwd' },
      {},
      /::error::input `telemetry-file`: \/etc\/passwd is outside the workspace/,
    ],
  ])('inputs %j env %j', async (inputs, env, message) => {
    const dir = tempDir('bg-ev-');
    mkdirSync(join(dir, 'e'));
    const event = join(dir, 'e', 'event.json');
    writeFileSync(event, JSON.stringify(payload('pull_request')));
    expect(await action('pull_request', event, inputs, env)).toMatch(message);
  });

  it('a malformed percent-escape in prometheus-url: masked before it is refused, never printed', async () => {
    const dir = tempDir('bg-ev-');
    const event = join(dir, 'event.json');
    writeFileSync(event, JSON.stringify(payload('pull_request')));
    const password = 'hunter2%zz-secret';
    // Workflow commands escape `%` as %25 (and CR, LF): the runner reads them decoded.
    const out = (
      await action('pull_request', event, {
        'prometheus-url': `https://gate:${password}@prometheus.example`,
        'telemetry-file': '',
      })
    )
      .replace(/%0D/g, '\r')
      .replace(/%0A/g, '\n')
      .replace(/%25/g, '%');
    expect(out).toMatch(
      /::error::input `prometheus-url`: the user or password in the URL has a % that starts no percent-escape: write % as %25/,
    );
    const mask = out.indexOf(`::add-mask::${password}`);
    expect(mask).toBeGreaterThanOrEqual(0);
    expect(mask).toBeLessThan(out.indexOf('::error::'));
    expect(out.replaceAll(`::add-mask::${password}`, '')).not.toContain(password);
  });

  it('GitHub unreachable: the host and what failed, never "GitHub answered 500 … the token may need"', async () => {
    const { port, run } = await unreachable;
    const out = failed(run);
    expect(out).toMatch(
      new RegExp(
        `::error::no usable answer from GitHub at 127\\.0\\.0\\.1:${port} to \\w+ /repos/Codertocat/Hello-World/\\S+ \\(ECONNREFUSED: nothing listens there\\): check GITHUB_API_URL`,
      ),
    );
    expect(out).not.toMatch(/GitHub answered 500|token may need/);
  }, 90_000);

  it.each([['push'], ['deployment']])(
    'a GitHub 404 on a %s event names the request and the permission',
    async (name) => {
      const dir = tempDir('bg-ev-');
      const event = join(dir, 'event.json');
      const body = payload(name as 'push');
      if (name === 'push') Object.assign(body, { ref: 'refs/heads/main', before: 'c'.repeat(40) });
      writeFileSync(event, JSON.stringify(body));
      const out = await action(name, event);
      expect(out).toMatch(
        /::error::GitHub answered 404 to GET \/repos\/Codertocat\/Hello-World\/\S+ \(Not Found\): .*grant `(deployments|contents): read`/,
      );
    },
  );
});
