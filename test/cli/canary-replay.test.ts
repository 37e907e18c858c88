import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { toJsonl } from '../../src/scenarios/agent-traffic.ts';
import type { TaskRecord } from '../../src/telemetry/jsonl/record.ts';
import { MemorySource } from '../../src/telemetry/memory.ts';
import {
  badDeploy,
  customerBurst,
  DEPLOYED_AT,
  healthy,
  splitBadCanary,
  splitIncident,
} from '../fixtures/canary-replay.ts';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/tasks.ts';

// `budget-gate canary --replay`: a past deploy judged interval by interval, as the bot would have.

const POLICY = (extra = '') => `version: 1
slos:
  - { name: paid-success, sli: { kind: success }, target: 95%, window: 30d, scope: { tier: paid } }
auto_revert:
  confidence: 0.99
  burn_rate: 0.2
  consumed: 0.01
  baseline: 6h
  recent: 60m
  min_events: 10
${extra}`;

function files(tasks: TaskRecord[], policy = POLICY('  cluster_by: customer\n')) {
  const dir = tempDir();
  const t = join(dir, 'tasks.jsonl');
  const p = join(dir, 'p.yml');
  writeFileSync(t, toJsonl(tasks));
  writeFileSync(p, policy);
  return ['--policy', p, '--telemetry', t, '--deployed-at', new Date(DEPLOYED_AT).toISOString()];
}

const replay = async (args: string[]) => {
  const r = await cli(['canary', '--replay', '--json', ...args]);
  return { code: r.code, out: r.code < 2 ? JSON.parse(r.stdout) : null, stderr: r.stderr };
};

describe('budget-gate canary --replay', () => {
  it('reverts 1% → 40% within minutes, naming the minute, the SLO and the rule (exit 1)', async () => {
    const { code, out } = await replay(files(badDeploy()));
    expect(code).toBe(1);
    expect(out).toMatchObject({
      verdict: 'revert',
      outcome: 'revert',
      slo: 'paid-success',
      rule: 'burn_rate',
    });
    expect(out.minute).toBeGreaterThan(0);
    expect(out.minute).toBeLessThanOrEqual(10);
    expect(out.reason).toContain('revert by the rate rule');
    expect(out.slos[0]).toMatchObject({ slo: 'paid-success', status: 'revert' });
    expect(Object.keys(out.slos[0]).sort()).toEqual(
      [
        'bad',
        'bad_ratio',
        'baseline_bad',
        'baseline_ratio',
        'baseline_tasks',
        'burn_high',
        'burn_low',
        'line_burn',
        'message',
        'rules',
        'slo',
        'status',
        'tasks',
      ].sort(),
    );
  });

  it('keeps a healthy deploy to the end of the watch (exit 0) and says so for a person', async () => {
    const args = files(healthy());
    const { code, out } = await replay(args);
    expect(code).toBe(0);
    expect(out).toMatchObject({ verdict: 'keep', minute: 60, slo: null, rule: null });
    expect(['clear', 'inconclusive']).toContain(out.outcome);
    const text = await cli(['canary', '--replay', ...args]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^KEEP \((clear|inconclusive)\) at minute 60/);
  });

  it("keeps a deploy through one customer's retried bad batch, counted once a minute with cluster_by", async () => {
    const clustered = await replay(files(customerBurst()));
    expect(clustered.code).toBe(0);
    expect(clustered.out.verdict).toBe('keep');
    // The tally counts a customer's cell up to its first failure: 48 failures of c7 in four
    // minutes count as 4 or 5 (one a minute), next to the steady traffic's 1 in 100, and c7's
    // tasks after a failure in the same minute are not counted either.
    const tasks = customerBurst();
    const ranges = [{ key: 'post', from: DEPLOYED_AT, to: DEPLOYED_AT + 60 * 60_000 }];
    const slo = loadPolicy(POLICY(), 'p.yml').policy.slos[0]!;
    const count = async (cluster?: { by: string; cellMs: number }) =>
      (
        await new MemorySource('t', tasks).fetch({
          at: DEPLOYED_AT,
          slos: [{ slo, quantiles: false, ranges, ...(cluster ? { cluster } : {}) }],
        })
      ).slos['paid-success']!.ranges.post!;
    const plain = await count();
    const bounded = await count({ by: 'customer', cellMs: 60_000 });
    expect(plain).toMatchObject({ events: 300 + 48, bad: 3 + 48 });
    expect(bounded.bad).toBeLessThanOrEqual(3 + 5);
    expect(bounded.events).toBeLessThanOrEqual(plain.events! - (plain.bad! - bounded.bad!));
    expect(bounded.events).toBeGreaterThan(300 - 10);
  });

  it('with a canary/stable split, keeps a deploy through an incident on both arms and reverts a bad canary', async () => {
    const split = POLICY('  cluster_by: customer\n  control: { split: { by: arm } }\n');
    const incident = await replay(files(splitIncident(), split));
    expect(incident.code).toBe(0);
    const bad = await replay(files(splitBadCanary(), split));
    expect(bad.code).toBe(1);
    expect(bad.out.reason).toContain('on the stable arm over the same minutes');
    // Without the split the incident alone is blamed on the deploy.
    expect((await replay(files(splitIncident()))).code).toBe(1);
  });

  it('refuses --at with --replay (exit 2)', async () => {
    const r = await cli(['canary', '--replay', '--at', '2026-11-20T12:30:00Z', ...files(healthy())]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--replay judges the whole watch');
  });
});
