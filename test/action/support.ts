import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import examples from '@octokit/webhooks-examples';
import nock from 'nock';
import { type GateResult, runGate } from '../../src/action/gate.ts';
import { parseInputs } from '../../src/action/inputs.ts';
import { openTelemetry } from '../../src/action/telemetry.ts';
import { DEMO_END, DEMO_POLICY, DEMO_TELEMETRY } from '../../src/scenarios/demo.ts';
import { API, testOctokit } from '../github/helpers.ts';
import { tempDir } from '../support/tasks.ts';

export const AT = Date.parse(DEMO_END);
/** The webhooks-examples repository every payload below belongs to. */
export const GH_REPO = '/repos/Codertocat/Hello-World';

/** The fields of each example payload the tests read or adapt; the rest passes through as GitHub sent it. */
interface Payloads {
  pull_request: {
    action: string;
    label?: { name: string };
    pull_request: { number: number; title: string; labels: { name: string }[] };
  };
  push: { ref: string; before: string; after: string };
  deployment: { deployment: { id: number; sha: string; environment: string } };
}

/** A real payload from @octokit/webhooks-examples, deep-copied so a test can adapt fields. */
export function payload<K extends keyof Payloads>(
  name: K,
  pick: (e: Payloads[K]) => boolean = () => true,
): Payloads[K] {
  const family = (examples as unknown as { name: string; examples: Payloads[K][] }[]).find(
    (e) => e.name === name,
  );
  const found = family?.examples.find(pick);
  if (!found) throw new Error(`no ${name} example`);
  return structuredClone(found);
}

/**
 * A checked-out workspace: the example policy (optionally edited) and the bundled month of
 * telemetry, which puts tasks-success-paid at 62% consumed and 2.1x pace: a SOFT-PAUSE.
 */
export function workspace(edit: (policy: string) => string = (p) => p): string {
  const dir = tempDir('bg-ws-');
  mkdirSync(join(dir, '.github'));
  writeFileSync(join(dir, '.github/error-budget.yml'), edit(readFileSync(DEMO_POLICY, 'utf8')));
  copyFileSync(DEMO_TELEMETRY, join(dir, 'telemetry.jsonl.gz'));
  return dir;
}

/** Lowers the hard-pause line under the demo's 62%: everything but reverts is held. */
export const hardPause = (p: string) =>
  p.replace('consumed: 1.0 # budget gone', 'consumed: 0.6 # budget gone');

/** GitHub's reply to a contents read of a file, as it sends it. */
export const contentsReply = (text: string, path = POLICY_PATH) => ({
  type: 'file',
  encoding: 'base64',
  name: path.split('/').at(-1),
  path,
  size: Buffer.byteLength(text),
  sha: 'e'.repeat(40),
  content: Buffer.from(text, 'utf8').toString('base64'),
});

export const POLICY_PATH = '.github/error-budget.yml';
const NOT_FOUND = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' };

/**
 * The policy in force, as GitHub serves it at the pull request's base (or, for a deploy, at what
 * the environment runs now): `text`, or a 404 for null. `ref` pins the sha it must be read at.
 */
export function nockPolicyAt(text: string | null, ref?: string): void {
  const scope = nock(API)
    .get((uri) => decodeURIComponent(uri.split('?')[0]!) === `${GH_REPO}/contents/${POLICY_PATH}`)
    .query(ref ? { ref } : true);
  if (text === null) scope.reply(404, NOT_FOUND);
  else scope.reply(200, contentsReply(text));
}

export async function gate(
  eventName: string,
  body: Record<string, unknown>,
  opts: {
    workspace?: string;
    inputs?: Record<string, string>;
    /** The policy in force (default: the workspace's copy); false when the test nocks it itself. */
    inForce?: string | null | false;
  } = {},
): Promise<GateResult & { requests: number; routes: Map<string, number>; logs: string[] }> {
  const ws = opts.workspace ?? workspace();
  if (opts.inForce !== false) {
    let text = opts.inForce;
    if (text === undefined) {
      try {
        text = readFileSync(join(ws, POLICY_PATH), 'utf8');
      } catch {
        text = null;
      }
    }
    const base = (body as { pull_request?: { base?: { sha?: string } } }).pull_request?.base?.sha;
    nockPolicyAt(text, eventName.startsWith('pull_request') ? base : undefined);
  }
  const { gh, counter } = testOctokit();
  const inputs = { 'telemetry-file': 'telemetry.jsonl.gz', ...opts.inputs };
  const logs: string[] = [];
  const result = await runGate({
    gh,
    counter,
    inputs: parseInputs(
      (n) => inputs[n as keyof typeof inputs] ?? '',
      (n) => n in inputs,
    ),
    event: { eventName, payload: body, repository: 'Codertocat/Hello-World', sha: 'f'.repeat(40) },
    workspace: ws,
    now: () => AT,
    openTelemetry,
    log: { info: (m) => logs.push(m), warning: (m) => logs.push(`warning: ${m}`) },
    auditSleep: async () => {},
  });
  return { ...result, requests: counter.total, routes: counter.byRoute, logs };
}

/** `GET /issues/{n}/events` body: one labeled event. */
export const labeled = (label: string, actor: string, at: number) => [
  {
    id: 1,
    event: 'labeled',
    actor: { login: actor },
    label: { name: label, color: 'f00' },
    created_at: new Date(at).toISOString(),
  },
];

/**
 * `GET /pulls/{n}/commits` body: one commit by each login (author and committer), with the
 * noreply emails GitHub gives accounts that keep theirs private.
 */
export const pullCommits = (...logins: string[]) =>
  logins.map((login, i) => {
    const who = {
      name: login,
      email: `${1000 + i}+${login}@users.noreply.github.com`,
      date: '2026-11-20T06:55:00Z',
    };
    return {
      sha: `${i}`.repeat(40),
      commit: { author: who, committer: who, message: `commit ${i}`, verification: { verified: false } },
      author: { login },
      committer: { login },
    };
  });

export const HOUR = 3_600_000;

/** webhooks-examples' pull_request `opened` (the PR's head and author typed, for tests that adapt them). */
export const opened = () =>
  payload('pull_request', (e) => e.action === 'opened') as ReturnType<typeof payload<'pull_request'>> & {
    pull_request: { head: { ref: string }; user: { login: string; type: string } };
  };

/** webhooks-examples' pull_request `labeled`, the label renamed `name` on the event and the PR. */
export function withLabel(name: string) {
  const body = payload('pull_request', (e) => e.action === 'labeled');
  body.label = { ...body.label, name };
  body.pull_request.labels = [{ ...body.pull_request.labels[0], name }];
  return body;
}

/** The files GitHub lists for a pull request or compare, each `modified`. */
export const changedFiles = (...paths: string[]) =>
  paths.map((filename) => ({ filename, status: 'modified', sha: 'a'.repeat(40) }));

/** GitHub's answers on who wrote pull request `pull` (`author`'s commits) and when its branch last moved. */
export const nockAuthorship = (pull: number, author: string, pushedAt: number): nock.Scope =>
  nock(API)
    .get(`${GH_REPO}/pulls/${pull}/commits`)
    .query(true)
    .reply(200, pullCommits(author))
    .get(`${GH_REPO}/activity`)
    .query(true)
    .reply(200, [{ activity_type: 'push', timestamp: new Date(pushedAt).toISOString() }]);

/**
 * Nothing deployed to production yet: GitHub lists no deployment, and answers the head commit
 * `sha` alone (its `message`, first parent and changed `files`). Returns the scope to chain on.
 */
export const nockHeadCommitOnly = (
  sha: string,
  commit: { message: string; parent: string; files: string[] },
): nock.Scope =>
  nock(API)
    .get(`${GH_REPO}/deployments`)
    .query(true)
    .reply(200, [])
    .get(`${GH_REPO}/commits/${sha}`)
    .query(true)
    .reply(200, {
      sha,
      commit: { message: commit.message },
      author: null,
      parents: [{ sha: commit.parent }],
      files: commit.files.map((filename) => ({ filename, status: 'modified' })),
    });
