import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import examples from '@octokit/webhooks-examples';
import nock from 'nock';
import { Probot, ProbotOctokit } from 'probot';
import type { z } from 'zod';
import { budgetGateApp } from '../../src/bot/app.ts';
import type { BotDeps } from '../../src/bot/deps.ts';
import { type Evidence, evidenceSchema } from '../../src/bot/evidence.ts';
import { collectingLog } from '../../src/bot/log.ts';
import { openRevert } from '../../src/bot/revert/revert.ts';
import { type Reverter, Watcher } from '../../src/bot/watcher.ts';
import { refusals } from '../../src/github/errors.ts';
import type { NewWatch, WatchStore } from '../../src/policy/canary/ports.ts';
import type { TelemetrySource } from '../../src/policy/gate/ports.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { assertAllCalled } from '../support/nock.ts';
import { steadyTasks, type Task, tempDir, writeTasks } from '../support/tasks.ts';

export const API = 'https://api.github.com';
export const REPO_PATH = '/repos/Codertocat/Hello-World';
export const POLICY_TEXT = readFileSync(
  join(import.meta.dirname, '../fixtures/bot/error-budget.yml'),
  'utf8',
);
/** The deployment every webhooks-examples deployment payload carries. */
export const DEPLOYMENT_ID = 145988746;
export const DEPLOYED_SHA = 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e';
export const PREVIOUS_ID = 145988001;
export const PREVIOUS_SHA = 'a'.repeat(40);
export const SHIPPED_PR = 42;
/** When the test deployment goes live: on a minute, like the watcher's grid. */
export const T0 = Date.parse('2026-03-02T12:00:00Z');
export const MIN = 60_000;

/** A real payload from @octokit/webhooks-examples, deep-copied so a test can adapt fields. */
export function example(
  name: string,
  pick: (e: Record<string, any>) => boolean = () => true,
): Record<string, any> {
  const family = (examples as unknown as { name: string; examples: Record<string, any>[] }[]).find(
    (e) => e.name === name,
  );
  const found = family?.examples.find(pick);
  if (!found) throw new Error(`no ${name} example`);
  return structuredClone(found);
}

/**
 * webhooks-examples' successful deployment_status with an installation, adapted in one field: the
 * status's `created_at` (2019 in the example) is moved to the test's clock.
 */
export function deploymentStatusPayload(opts: { id?: number; at?: number; state?: string } = {}) {
  const p = example('deployment_status', (e) => e.deployment_status.state === 'success' && !!e.installation);
  p.deployment_status.created_at = new Date(opts.at ?? T0).toISOString();
  if (opts.state) p.deployment_status.state = opts.state;
  if (opts.id) p.deployment.id = opts.id;
  return p;
}

const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

export function testProbot(deps: BotDeps): Probot {
  const probot = new Probot({
    appId: 1,
    privateKey,
    // The function form, not `defaults({ throttle: { enabled: false } })`: Probot passes its own
    // throttle options per instance, which replace an object default's, so throttling would stay
    // on and space every write a second apart.
    // With the refusals hook the bot's own Octokit has (src/bot/octokit.ts): a refusal names its permission.
    Octokit: ProbotOctokit.plugin(refusals).defaults((o: Record<string, any>) => ({
      ...o,
      retry: { enabled: false },
      throttle: { ...o.throttle, enabled: false },
    })),
    logLevel: 'fatal',
  });
  probot.load(budgetGateApp(deps));
  return probot;
}

/** Sends a webhook through Probot as GitHub would deliver it. */
export function deliver(probot: Probot, name: string, payload: unknown, id = 'delivery'): Promise<void> {
  return probot.receive({ id, name, payload } as Parameters<Probot['receive']>[0]);
}

export const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The sha git gives a blob with this content: what the revert's tree must point at. */
export const gitBlobSha = (content: string) =>
  createHash('sha1')
    .update(`blob ${Buffer.byteLength(content)}\0${content}`)
    .digest('hex');

export function nockInstallationToken(id = 1): nock.Scope {
  return nock(API)
    .post(`/app/installations/${id}/access_tokens`)
    .reply(201, { token: `ghs_installation_${id}`, expires_at: '2099-01-01T00:00:00Z', permissions: {} });
}

/**
 * A watch started as GitHub starts one: a deployment_status webhook through Probot, its reads
 * answered by nock (nockWatchStart's `opts`), every one of them made.
 */
export async function startWatch(
  probot: Probot,
  delivery: string,
  opts: Parameters<typeof nockWatchStart>[0] = {},
): Promise<void> {
  nockInstallationToken();
  nockWatchStart(opts);
  await deliver(probot, 'deployment_status', deploymentStatusPayload(), delivery);
  assertAllCalled();
}

const policyFile = (text: string) => ({
  type: 'file',
  encoding: 'base64',
  content: b64(text),
  sha: 'p'.repeat(40),
  size: Buffer.byteLength(text),
});

/**
 * The reads deployment_status makes: the last deployment, the policy in force there (what
 * production ran: `inForce`, default the same as the deployed copy) and at the deployed sha
 * (`policy`; null for a deploy that deletes it), the shipping PR.
 */
export function nockWatchStart(
  opts: { policy?: string | null; inForce?: string; sha?: string } = {},
): nock.Scope {
  const sha = opts.sha ?? DEPLOYED_SHA;
  const deployed = opts.policy === undefined ? POLICY_TEXT : opts.policy;
  const scope = nock(API)
    .get(`${REPO_PATH}/contents/.github%2Ferror-budget.yml`)
    .query({ ref: PREVIOUS_SHA })
    .reply(200, policyFile(opts.inForce ?? deployed ?? POLICY_TEXT))
    .get(`${REPO_PATH}/contents/.github%2Ferror-budget.yml`)
    .query({ ref: sha });
  const withPolicy =
    deployed === null
      ? scope.reply(404, {
          message: 'Not Found',
          documentation_url: 'https://docs.github.com/rest',
          status: '404',
        })
      : scope.reply(200, policyFile(deployed));
  return withPolicy
    .get(`${REPO_PATH}/deployments`)
    .query({ environment: 'production', per_page: 10 })
    .reply(200, [
      { id: DEPLOYMENT_ID, sha },
      { id: PREVIOUS_ID, sha: PREVIOUS_SHA },
    ])
    .get(`${REPO_PATH}/deployments/${PREVIOUS_ID}/statuses`)
    .query({ per_page: 1 })
    .reply(200, [{ state: 'success' }])
    .get(`${REPO_PATH}/commits/${sha}/pulls`)
    .query({ per_page: 10 })
    .reply(200, [
      {
        number: SHIPPED_PR,
        title: 'Rewrite the refund prompt',
        user: { login: 'prompt-author' },
        labels: [],
        head: { ref: 'refund-prompt', sha, repo: { name: 'Hello-World', owner: { login: 'Codertocat' } } },
        merged_at: '2026-03-02T11:50:00Z',
      },
    ]);
}

/**
 * Telemetry around T0: 100 tasks a minute from six hours before, failing at `before` until the
 * deployment and at `after` from it on (exact counts: every k-th task fails).
 */
export function scenarioTasks(
  before: number,
  after: number,
  opts: { outageFrom?: number; attrs?: Record<string, string>; perMinute?: number } = {},
): Task[] {
  const start = T0 - 6 * 60 * MIN;
  return steadyTasks(
    start,
    T0 + 70 * MIN,
    opts.perMinute ?? 100,
    (t) => {
      if (t > T0) return after;
      if (opts.outageFrom !== undefined && t > opts.outageFrom) return after;
      return before;
    },
    opts.attrs,
  );
}

/** The test policy narrowed to one service's tasks. */
export const policyForService = (service: string) =>
  POLICY_TEXT.replace('scope: all', `scope: { service: ${service} }`);

export function writeScenario(tasks: Task[]): string {
  return writeTasks(tempDir('bg-bot-'), 'tasks.jsonl', tasks);
}

/** The scenario's tasks (scenarioTasks) as the bot's JSONL telemetry source. */
export const scenarioSource = (...args: Parameters<typeof scenarioTasks>) =>
  new JsonlSource({ path: writeScenario(scenarioTasks(...args)) });

/**
 * The bot over a scenario: its tasks as the JSONL source, `store`, a clock 5 s after the deploy,
 * and a Probot app with them (the policy read from `.github/error-budget.yml`).
 */
export function scenarioBot(tasks: Task[], store: WatchStore) {
  const path = writeScenario(tasks);
  const source = new JsonlSource({ path });
  const clock = testClock(T0 + 5_000);
  const deps: BotDeps = { store, source, clock: clock.now, policyPath: '.github/error-budget.yml' };
  return { path, source, clock, deps, probot: testProbot(deps) };
}

/** A sev1 fast-burn page on acme/r0 (installation 7), as an incident is opened for it. */
export const fastBurnPage = (key: string) =>
  ({
    key,
    repo: 'acme/r0',
    installation_id: 7,
    slo: 'tasks-success',
    alert: 'fast-burn',
    severity: 'sev1',
    action: 'page',
  }) as const;

/** A test clock: set, advance. */
export function testClock(start: number) {
  let now = start;
  return {
    now: () => now,
    set: (t: number) => {
      now = t;
    },
  };
}

/** A watcher whose reverts go through the real openRevert with the Probot app's installation token. */
export function probotWatcher(
  probot: Probot,
  o: { store: WatchStore; source: TelemetrySource; clock: () => number; replica?: string; leaseMs?: number },
) {
  const log = collectingLog();
  const watcher = new Watcher({
    store: o.store,
    source: o.source,
    clock: o.clock,
    replica: o.replica ?? 'replica-a',
    ...(o.leaseMs ? { leaseMs: o.leaseMs } : {}),
    log,
    revert: async (w, e, p) => openRevert(await probot.auth(w.installation_id), w, e, p, log),
  });
  return { watcher, log };
}

/** A watch as deployment_status records it, for tests that start from the store. */
export function newWatch(id: number, deployedAt: number, over: Partial<NewWatch> = {}): NewWatch {
  return {
    deployment_id: id,
    owner: 'Codertocat',
    repo: 'Hello-World',
    installation_id: 1,
    environment: 'production',
    sha: DEPLOYED_SHA,
    previous_sha: PREVIOUS_SHA,
    previous_deployment_id: PREVIOUS_ID,
    default_branch: 'master',
    deployed_at: deployedAt,
    pull_number: SHIPPED_PR,
    pull_title: 'Rewrite the refund prompt',
    policy_text: POLICY_TEXT,
    policy_path: '.github/error-budget.yml',
    ...over,
  };
}

/** A reverter that records what it was asked to revert, standing in for GitHub where the revert itself is not under test. */
export function recordingReverter() {
  const calls: Array<{ deployment_id: number; at: number; consumed: number | null }> = [];
  const revert: Reverter = async (w, e) => {
    calls.push({ deployment_id: w.deployment_id, at: e.detected_at, consumed: e.attributable_consumed });
    return {
      pull_number: 1000 + calls.length,
      url: `https://github.com/x/y/pull/${1000 + calls.length}`,
      existing: false,
      draft: false,
    };
  };
  return { calls, revert };
}

/** The evidence a watcher records for a breach 20 minutes after the deploy (5.25x against 0.5x). */
export function recordedEvidence(over: Partial<z.input<typeof evidenceSchema>> = {}): Evidence {
  return evidenceSchema.parse({
    slo: 'tasks-success',
    target: 0.99,
    window: '7d',
    sli: 'success',
    attributable_consumed: 0.25,
    projected_consumed: null,
    threshold: 0.2,
    within: '60m',
    post_events: 2000,
    post_bad: 105,
    post_ratio: 0.0525,
    baseline_ratio: 0.005,
    baseline_span: '1h',
    excess_bad: 95,
    window_budget: 380,
    post_burn: 5.25,
    baseline_burn: 0.5,
    elapsed_ms: 20 * MIN,
    deployed_at: T0,
    detected_at: T0 + 20 * MIN,
    message: 'tasks-success: this deployment burned 25%',
    runbook: null,
    ...over,
  });
}
