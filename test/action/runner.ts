import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPILE_CACHE_ENV } from '../support/compile-cache.ts';
import type { FakeGitHub } from '../support/github-server.ts';
import { steadyTasks, tempDir, writeTasks } from '../support/tasks.ts';

// GitHub's runner, played for the built bundle: a checked-out workspace with the policy a team
// writes from the README and a JSONL task file, the event in a file, inputs as INPUT_* variables,
// outputs and the summary read back from the files the runner would hand to later steps.

const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const POLICY = fileURLToPath(new URL('../fixtures/action/error-budget.yml', import.meta.url));

export const AT = Date.parse('2026-11-20T09:00:00Z');
const DAY = 86_400_000;

/**
 * The week of telemetry before AT for the fixture's 95%/7d SLO at one task a minute (budget: 504
 * failures): six quiet days at 2% failures, then a last day at `lastDayFailRate`.
 * 15% → 77% consumed at 3x pace: SOFT-PAUSE. 40% → 148% consumed: HARD-PAUSE.
 */
function week(lastDayFailRate: number) {
  return steadyTasks(AT - 7 * DAY, AT, 1, (t) => (t < AT - DAY ? 0.02 : lastDayFailRate));
}
export const SOFT_PAUSE = 0.15;
export const HARD_PAUSE = 0.4;

/** A workspace as actions/checkout leaves it, plus the task file the test wrote. */
export function workspace(lastDayFailRate: number, edit: (policy: string) => string = (p) => p): string {
  const dir = tempDir('bg-ws-');
  mkdirSync(join(dir, '.github'));
  writeFileSync(join(dir, '.github/error-budget.yml'), edit(readFileSync(POLICY, 'utf8')));
  writeTasks(dir, 'telemetry.jsonl', week(lastDayFailRate));
  return dir;
}

/** The fixture policy's text, to find the line a test breaks. */
export const policyText = (): string => readFileSync(POLICY, 'utf8');

export interface RunResult {
  status: number | null;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
}

export const TOKEN = 'ghs_e2e_secret_token';

/** One policy per fake GitHub: a test that runs the action twice keeps the first run's policy in force. */
const served = new WeakSet<FakeGitHub>();
function servePolicyOnce(gh: FakeGitHub, text: string): void {
  if (served.has(gh)) return;
  served.add(gh);
  servePolicy(gh, text);
}

/** GitHub's contents reply for the policy file: the policy in force at any sha it is asked for. */
function servePolicy(gh: FakeGitHub, text: string): void {
  gh.route('GET', '/repos/Codertocat/Hello-World/contents/.github%2Ferror-budget.yml', [
    200,
    {
      type: 'file',
      encoding: 'base64',
      path: '.github/error-budget.yml',
      size: Buffer.byteLength(text),
      sha: 'e'.repeat(40),
      content: Buffer.from(text, 'utf8').toString('base64'),
    },
  ]);
}

export async function runAction(
  gh: FakeGitHub,
  event: string,
  body: unknown,
  ws: string,
  inputs: Record<string, string> = {},
): Promise<RunResult> {
  if (!existsSync(DIST)) throw new Error('dist/index.js is missing: run `npm run build`');
  // The policy in force is read through the API (at the base, or at what the environment runs):
  // unless the test serves another, it is the checkout's copy.
  const own = join(ws, '.github/error-budget.yml');
  if (existsSync(own)) servePolicyOnce(gh, readFileSync(own, 'utf8'));
  const dir = tempDir('bg-runner-');
  const files = {
    event: join(dir, 'event.json'),
    output: join(dir, 'output'),
    summary: join(dir, 'summary.md'),
  };
  writeFileSync(files.event, JSON.stringify(body));
  writeFileSync(files.output, '');
  writeFileSync(files.summary, '');
  // What a workflow step `uses: budget-gate/budget-gate@v1` with `telemetry-file:` gets: every
  // input from action.yml, defaults filled in by the runner.
  const withInputs: Record<string, string> = {
    policy: '.github/error-budget.yml',
    token: TOKEN,
    'prometheus-url': '',
    'prometheus-token': '',
    'prometheus-headers': '',
    'telemetry-file': 'telemetry.jsonl',
    environment: '',
    mode: 'enforce',
    'check-name': 'budget-gate',
    at: new Date(AT).toISOString(),
    ...inputs,
  };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...COMPILE_CACHE_ENV,
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_REPOSITORY: 'Codertocat/Hello-World',
    GITHUB_SHA: 'f'.repeat(40),
    GITHUB_WORKSPACE: ws,
    GITHUB_API_URL: gh.url,
  };
  for (const [k, v] of Object.entries(withInputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  // Async: the fake GitHub lives in this process and must keep answering while the action runs.
  const child = spawn(process.execPath, [DIST], { env, cwd: ws });
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stdout += d;
  });
  const status = await new Promise<number | null>((r) => child.on('exit', r));
  // GITHUB_OUTPUT holds `name<<delimiter\nvalue\ndelimiter` blocks.
  const outputs: Record<string, string> = {};
  for (const m of readFileSync(files.output, 'utf8').matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm))
    outputs[m[1]!] = m[3]!;
  return { status, stdout, outputs, summary: readFileSync(files.summary, 'utf8') };
}
