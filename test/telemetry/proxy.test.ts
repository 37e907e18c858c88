import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { proxySettings } from '../../src/telemetry/env-proxy.ts';
import { outputOf } from '../support/child-output.ts';
import { type FakeGitHub, startGitHub } from '../support/github-server.ts';
import { prometheusPolicy } from '../support/policies.ts';
import { tempDir } from '../support/tasks.ts';
import { startTestHosts, type TestHosts } from '../support/test-hosts.ts';
import { type RunningTinyproxy, startTinyproxy } from '../support/tinyproxy.ts';
import { answer, type FakeServer, serve } from './prometheus/fake-server.ts';

// A self-hosted runner behind a corporate proxy: HTTPS_PROXY/HTTP_PROXY name a real tinyproxy,
// GitHub is https://api.github.test and Prometheus http://prometheus.test — names only the proxy
// can reach. Each client runs in its own process, as the Action and the CLI do, with the
// environment a runner gives it. What went through the proxy is read from tinyproxy's own log.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AT = Date.parse('2026-11-20T09:00:00Z');

let proxy: RunningTinyproxy;
let hosts: TestHosts;
let gh: FakeGitHub;
let prom: FakeServer;

beforeAll(async () => {
  gh = await startGitHub();
  gh.route('GET', '/repos/o/r', [200, { full_name: 'o/r' }]);
  gh.route('GET', '/repos/o/r/pulls/1', [200, { number: 1 }]);
  prom = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answer(prom.seen.at(-1)!, '100', AT));
  });
  hosts = await startTestHosts({
    'api.github.test:443': { port: Number(new URL(gh.url).port), tls: true },
    'prometheus.test:80': { port: Number(new URL(prom.url).port), tls: false },
  });
  proxy = await startTinyproxy({ upstreamPort: hosts.port, domain: '.test' });
});

afterAll(async () => {
  await proxy?.stop();
  await hosts?.close();
  await gh?.close();
  await prom?.close();
});

let before = 0;
afterEach(() => {
  gh.requests.length = 0;
  prom.seen.length = 0;
});
const mark = () => {
  before = proxy.requests().length;
};
const throughProxy = () => proxy.requests().slice(before);

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      // A runner's environment, with nothing of this test process's own.
      env: { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: hosts.caFile, ...env },
    });
    const out = outputOf(child);
    child.on('exit', (code) => resolve({ code, stdout: out.stdout(), stderr: out.stderr() }));
  });
}

/** The Action's Octokit (createOctokit) in a process of its own: two REST calls. */
const OCTOKIT = `
import { createOctokit } from './src/github/octokit.ts';
const logs = [];
const log = { debug: (m) => logs.push(m), info: () => {}, warn: (m) => logs.push('warn: ' + m), error: () => {} };
const gh = createOctokit({ token: 'ghs_proxy_test', baseUrl: 'https://api.github.test', retries: 0, log });
try {
  const a = await gh.request('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' });
  const b = await gh.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner: 'o', repo: 'r', pull_number: 1 });
  console.log(JSON.stringify({ ok: true, status: [a.status, b.status], logs }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e.message), logs }));
}
`;
const octokit = async (env: Record<string, string>) => {
  const r = await run(['--input-type=module', '-e', OCTOKIT], env);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
};

function policyFile(): string {
  const p = join(tempDir(), 'policy.yml');
  writeFileSync(p, prometheusPolicy());
  return p;
}
const evaluate = (url: string, env: Record<string, string>) =>
  run(
    [
      'bin/budget-gate.js',
      'evaluate',
      '--policy',
      policyFile(),
      '--prometheus',
      url,
      '--at',
      new Date(AT).toISOString(),
      '--json',
    ],
    env,
  );

describe('GitHub through HTTPS_PROXY', () => {
  it('every REST call goes through the proxy, tunnelled to api.github.test:443', async () => {
    mark();
    const r = await octokit({ HTTPS_PROXY: proxy.url });
    expect(r).toMatchObject({ ok: true, status: [200, 200] });
    expect(r.logs).toContain(
      'requests go through HTTPS_PROXY, except NO_PROXY (localhost,127.0.0.1,::1,[::1])',
    );
    // Nothing else can resolve api.github.test: both calls reached GitHub, so both went through.
    expect(gh.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      'GET /repos/o/r',
      'GET /repos/o/r/pulls/1',
    ]);
    expect(gh.requests.every((q) => q.headers.authorization === 'token ghs_proxy_test')).toBe(true);
    expect(throughProxy().length).toBeGreaterThanOrEqual(1);
    expect(new Set(throughProxy())).toEqual(new Set(['CONNECT api.github.test:443']));
  });

  it('a NO_PROXY host goes direct (and here, where the name does not resolve, fails)', async () => {
    mark();
    const r = await octokit({ HTTPS_PROXY: proxy.url, NO_PROXY: 'example.com,api.github.test' });
    expect(r.ok).toBe(false);
    expect(throughProxy()).toEqual([]);
    expect(gh.requests).toEqual([]);
  });

  it('lower-case https_proxy wins over HTTPS_PROXY, as in the toolkit', async () => {
    mark();
    const r = await octokit({ https_proxy: proxy.url, HTTPS_PROXY: 'http://127.0.0.1:9' });
    expect(r.ok).toBe(true);
    expect(throughProxy()).toContain('CONNECT api.github.test:443');
  });
});

describe('the metrics client through HTTP_PROXY', () => {
  it('budget-gate evaluate --prometheus reaches Prometheus through the proxy', async () => {
    mark();
    const r = await evaluate('http://prometheus.test', { HTTP_PROXY: proxy.url });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1); // all 100 tasks bad: HARD-PAUSE
    expect(JSON.parse(r.stdout).telemetry).toEqual({
      source: 'prometheus http://prometheus.test',
      error: null,
    });
    expect(prom.seen).toHaveLength(1);
    expect(throughProxy()).toEqual(['CONNECT prometheus.test:80']);
  });

  it('NO_PROXY hosts and loopback go direct', async () => {
    mark();
    const direct = await evaluate('http://prometheus.test', { HTTP_PROXY: proxy.url, no_proxy: '.test' });
    expect(direct.code).toBe(2);
    expect(direct.stderr).toContain('cannot reach Prometheus at http://prometheus.test (ENOTFOUND)');
    // A Prometheus on the runner itself is never sent to the proxy, whatever NO_PROXY says.
    const local = await evaluate(prom.url, { HTTP_PROXY: proxy.url });
    expect(local.code).toBe(1);
    expect(prom.seen).toHaveLength(1);
    expect(throughProxy()).toEqual([]);
  });
});

describe('proxySettings', () => {
  it('reads the toolkit’s variables, lower case first, and always exempts loopback', () => {
    expect(proxySettings({})).toBeNull();
    expect(proxySettings({ NO_PROXY: 'x' })).toBeNull();
    expect(
      proxySettings({
        http_proxy: 'http://a:1',
        HTTP_PROXY: 'http://b:2',
        NO_PROXY: 'corp.example, localhost',
      }),
    ).toEqual({
      HTTP_PROXY: 'http://a:1',
      NO_PROXY: 'corp.example,localhost,127.0.0.1,::1,[::1]',
    });
  });
});
