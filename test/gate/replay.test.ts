import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { onProtectionRule } from '../../src/bot/handlers/protection-rule.ts';
import { changeToJson } from '../../src/policy/gate/change.ts';
import type { Decision } from '../../src/policy/gate/decision-schema.ts';
import { DEMO_TELEMETRY } from '../../src/scenarios/demo.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';
import { AT, gate } from '../action/support.ts';
import { API, testOctokit } from '../github/helpers.ts';
import { cli } from '../support/cli.ts';
import { useNock } from '../support/nock.ts';
import { loadScenarios, nockScenarioGitHub, type Scenario } from '../support/scenarios.ts';
import { tempDir } from '../support/tasks.ts';

// One pipeline, every surface: each named scenario goes through the Action (PR check or deploy
// step), the deployment protection rule (deploy scenarios) and the CLI fed the Action's `change`
// output, and all of them must produce the same decision JSON.

const POLICY = '.github/error-budget.yml';
const plain = (d: Decision | null | undefined) => JSON.parse(JSON.stringify(d ?? null));

const IN_FORCE = 'in-force.yml';

function checkout(s: Scenario): string {
  const dir = tempDir('bg-scenario-');
  mkdirSync(join(dir, '.github'));
  // The checkout holds the change's own copy; the policy in force is GitHub's (and the CLI's file).
  if (s.changePolicyText !== null) writeFileSync(join(dir, POLICY), s.changePolicyText);
  writeFileSync(join(dir, IN_FORCE), s.policyText);
  // In the checkout: the Action refuses a telemetry-file outside its workspace.
  copyFileSync(DEMO_TELEMETRY, join(dir, 'demo.jsonl.gz'));
  return dir;
}

async function viaProtectionRule(
  deployment: Record<string, unknown>,
  repository: unknown,
  telemetry: string,
) {
  const callback = '/repos/Codertocat/Hello-World/actions/runs/4242/deployment_protection_rule';
  let answer: { state?: string } = {};
  nock(API)
    .post(callback, (b) => {
      answer = b;
      return true;
    })
    .reply(204);
  const { gh } = testOctokit();
  const result = await onProtectionRule(
    {
      octokit: gh,
      log: { info: () => {}, warn: () => {}, error: () => {} },
      // GitHub's deployment_protection_rule fields around the example's own deployment and repository.
      payload: {
        action: 'requested',
        environment: deployment.environment,
        event: 'deployment',
        deployment_callback_url: `${API}${callback}`,
        deployment,
        repository,
      },
    },
    {
      store: null as never,
      source: new JsonlSource({ path: telemetry }),
      clock: () => AT,
      policyPath: POLICY,
    },
  );
  return { decision: result.decision, answer };
}

useNock();

describe.each(loadScenarios().map((s) => [s.name, s] as const))('scenario %s', (_name, s) => {
  it(`${s.description.trim().split('\n')[0]}: the same decision on every surface`, async () => {
    const github = nockScenarioGitHub(API, s);
    const workspace = checkout(s);
    const body = s.payload();
    const telemetry = join(workspace, 'demo.jsonl.gz');
    const action = await gate(s.event, body, {
      workspace,
      inputs: { 'telemetry-file': telemetry },
      inForce: false,
    });
    const d = action.decision;

    expect(d).toMatchObject({ state: s.expect.state, allowed: s.expect.allowed, risk: s.expect.risk });
    expect(d.reasons.map((r) => r.code)).toEqual(s.expect.reasons);
    if (s.expect.warning) expect(d.warnings.join('\n')).toContain(s.expect.warning);
    if (s.expect.loosens)
      expect(d.reasons.find((r) => r.code === 'policy-loosened')?.message).toContain(s.expect.loosens);
    if (s.expect.refusal) expect(d.override_refusals.map((r) => r.code)).toContain(s.expect.refusal);
    if (s.expect.refusals) expect(d.override_refusals.map((r) => r.code)).toEqual(s.expect.refusals);
    // An honoured override is on the audit branch before the check run says so.
    const wrote = github.posts.map((p) => p.path);
    expect(wrote.some((p) => p.endsWith('/git/refs'))).toBe(s.audit);
    expect(wrote.at(-1)).toBe('check-runs');

    // The CLI, given the change facts the Action reports in its `change` output.
    const changeFile = join(workspace, 'change.json');
    writeFileSync(changeFile, JSON.stringify(changeToJson(action.change)));
    const local = await cli(
      [
        'evaluate',
        '--policy',
        IN_FORCE,
        '--telemetry',
        telemetry,
        '--change',
        changeFile,
        '--at',
        d.evaluated_at,
        '--json',
      ],
      { cwd: workspace },
    );
    expect(local.stderr).toBe('');
    expect(local.code).toBe(d.allowed ? 0 : 1);
    expect(JSON.parse(local.stdout)).toEqual(plain(d));

    if (s.event === 'deployment') {
      const bot = await viaProtectionRule(
        body.deployment as Record<string, unknown>,
        body.repository,
        telemetry,
      );
      expect(plain(bot.decision)).toEqual(plain(d));
      expect(bot.answer.state).toBe(d.allowed ? 'approved' : 'rejected');
    }
  });
});
