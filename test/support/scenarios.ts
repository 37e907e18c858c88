import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import examples from '@octokit/webhooks-examples';
import nock from 'nock';
import { parse } from 'yaml';
import { z } from 'zod';
import { auditAnchors } from '../github/helpers.ts';

// The named gate scenarios under test/fixtures/scenarios/ (see its README): loaded and validated
// here, and GitHub's side of each played by nock, so the Action, the protection rule and the CLI
// tests drive the same facts.

const SCENARIO_DIR = join(import.meta.dirname, '../fixtures/scenarios');
const SCENARIO_POLICIES = join(SCENARIO_DIR, '_policies');

const scenarioSchema = z.strictObject({
  description: z.string(),
  event: z.enum(['pull_request', 'deployment']),
  /** Dotted path → value: which @octokit/webhooks-examples payload of `event`. */
  example: z.record(z.string(), z.unknown()),
  /** Dotted path → value: the fields the scenario changes in that payload. */
  adapt: z.record(z.string(), z.unknown()).default({}),
  /** The policy in force: GitHub serves it at the base (a pull request) or at what the environment runs now. */
  policy: z.string(),
  /**
   * The change's own copy of the policy, when the change edits it (`deleted` when it removes it):
   * in the checkout and served at the change's head sha; the change must list the file.
   */
  change_policy: z.string().optional(),
  github: z
    .array(z.strictObject({ call: z.string(), status: z.number().int().default(200), body: z.unknown() }))
    .default([]),
  /** The decision writes an audit record (an honoured override). */
  audit: z.boolean().default(false),
  expect: z.strictObject({
    state: z.enum(['ship', 'soft-pause', 'hard-pause']),
    allowed: z.boolean(),
    risk: z.enum(['high', 'low']),
    reasons: z.array(z.string()),
    warning: z.string().optional(),
    /** Text the `policy-loosened` reason must contain (the key, old → new). */
    loosens: z.string().optional(),
    /** An override refusal's code the decision must list. */
    refusal: z.string().optional(),
    /** The codes of the override refusals, in the decision's order. */
    refusals: z.array(z.string()).optional(),
  }),
});

type ScenarioSpec = z.output<typeof scenarioSchema>;
export interface Scenario extends ScenarioSpec {
  name: string;
  /** The policy in force. */
  policyText: string;
  /** The change's copy: the in-force text unless the change edits it, null when it deletes it. */
  changePolicyText: string | null;
  /** The sha the change's copy is read at: the pull request's head, or the deployed sha. */
  headSha: string;
  /** A fresh copy of the real webhook payload with the scenario's adaptations. */
  payload(): Record<string, unknown>;
}

const get = (o: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      o,
    );

function set(o: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = o;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[keys[keys.length - 1]!] = structuredClone(value);
}

function examplePayload(event: string, match: Record<string, unknown>): Record<string, unknown> {
  const family = (examples as unknown as { name: string; examples: Record<string, unknown>[] }[]).find(
    (e) => e.name === event,
  );
  const found = family?.examples.find((e) => Object.entries(match).every(([k, v]) => get(e, k) === v));
  if (!found) throw new Error(`no ${event} example matching ${JSON.stringify(match)}`);
  return structuredClone(found);
}

export function loadScenarios(): Scenario[] {
  return readdirSync(SCENARIO_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('_'))
    .map((d) => {
      const spec = scenarioSchema.parse(
        parse(readFileSync(join(SCENARIO_DIR, d.name, 'scenario.yml'), 'utf8')),
      );
      const policyText = readFileSync(join(SCENARIO_POLICIES, spec.policy), 'utf8');
      const payload = () => {
        const body = examplePayload(spec.event, spec.example);
        for (const [k, v] of Object.entries(spec.adapt)) set(body, k, v);
        return body;
      };
      const changePolicyText =
        spec.change_policy === undefined
          ? policyText
          : spec.change_policy === 'deleted'
            ? null
            : readFileSync(join(SCENARIO_POLICIES, spec.change_policy), 'utf8');
      const head = get(payload(), spec.event === 'pull_request' ? 'pull_request.head.sha' : 'deployment.sha');
      return { ...spec, name: d.name, policyText, changePolicyText, headSha: String(head), payload };
    });
}

/**
 * GitHub as the scenario describes it, on `api`: each listed call answers as written, any number of
 * times (the Action and the bot both ask); writes (check runs, the audit branch) are accepted and
 * recorded. Returns what was written.
 */
export function nockScenarioGitHub(api: string, s: Scenario): { posts: { path: string; body: unknown }[] } {
  const posts: { path: string; body: unknown }[] = [];
  const scope = nock(api).persist();
  for (const entry of s.github) {
    const [method, path] = entry.call.split(' ') as [string, string];
    if (method !== 'GET') throw new Error(`scenario ${s.name}: only GET calls are listed (${entry.call})`);
    scope
      .get((uri) => decodeURIComponent(uri.split('?')[0]!) === path)
      .query(true)
      .reply(entry.status, entry.body as nock.Body);
  }
  // The policy file: the change's copy at its head, the policy in force at any other sha.
  const policyPath = (uri: string) =>
    decodeURIComponent(uri.split('?')[0]!) ===
    '/repos/Codertocat/Hello-World/contents/.github/error-budget.yml';
  const file = (text: string) => ({
    type: 'file',
    encoding: 'base64',
    size: Buffer.byteLength(text),
    sha: 'e'.repeat(40),
    content: Buffer.from(text, 'utf8').toString('base64'),
  });
  const notFound = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' };
  const atHead = scope.get(policyPath).query((q) => q.ref === s.headSha);
  if (s.changePolicyText === null) atHead.reply(404, notFound);
  else atHead.reply(200, file(s.changePolicyText));
  scope.get(policyPath).query(true).reply(200, file(s.policyText));
  if (s.audit) {
    scope
      .get((uri) => uri.startsWith('/repos/Codertocat/Hello-World/contents/audit.jsonl'))
      .query(true)
      .reply(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
    for (const [path, reply] of [
      [
        '/repos/Codertocat/Hello-World/git/trees',
        { sha: 't'.repeat(40), tree: [{ path: 'audit.jsonl', sha: 'b'.repeat(40) }] },
      ],
      ['/repos/Codertocat/Hello-World/git/commits', { sha: 'c'.repeat(40) }],
      ['/repos/Codertocat/Hello-World/git/refs', { ref: 'refs/heads/budget-gate/audit' }],
    ] as const) {
      scope
        .post(path, (body) => {
          posts.push({ path, body });
          return true;
        })
        .reply(201, reply);
    }
  }
  if (s.audit) auditAnchors(scope, '/repos/Codertocat/Hello-World', []);
  scope
    .post('/repos/Codertocat/Hello-World/check-runs', (body) => {
      posts.push({ path: 'check-runs', body });
      return true;
    })
    .reply(201, { id: 1, html_url: `${api}/checks/1` });
  return { posts };
}
