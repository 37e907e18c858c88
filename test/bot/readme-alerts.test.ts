import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tasks.ts';

// The README's example alerts on the bot itself, checked and unit-tested by promtool (Debian's
// prometheus package, provisioned by scripts/test-deps): the rules parse, the watcher-stalled alert
// fires when ticks stop and stays quiet while they continue, the evaluator's dead man's switch fires
// when its rounds stop, a repository left unevaluated raises its own alert, and a failed revert
// raises its alert.

const readme = readFileSync(join(import.meta.dirname, '../../docs/bot.md'), 'utf8');
const start = readme.indexOf('groups:\n  - name: budget-gate-bot');
const rules = readme.slice(start, readme.indexOf('```', start));

const unitTests = `rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # Ticks every minute for 10 minutes, then none: the timestamp stays at 600 s.
      - series: budget_gate_last_tick_timestamp_seconds{instance="bot-1"}
        values: 60+60x9 600x30
      - series: budget_gate_reverts_failed_total{instance="bot-1"}
        values: 0x10 1x20
      # Evaluator rounds every minute for 10 minutes on one replica, then none.
      - series: budget_gate_last_evaluation_round_timestamp_seconds{instance="bot-1"}
        values: 60+60x9 600x30
      - series: budget_gate_last_evaluation_timestamp_seconds{instance="bot-1",repository="acme/agents"}
        values: 60+60x4 300x30
    alert_rule_test:
      - eval_time: 10m
        alertname: BudgetGateWatcherStalled
        exp_alerts: []
      - eval_time: 20m
        alertname: BudgetGateWatcherStalled
        exp_alerts:
          - exp_labels: { severity: sev1 }
            exp_annotations:
              summary: budget-gate's watcher has not ticked for 5m; bad deploys will not be reverted
              runbook: check /healthz on each replica (store, telemetry), then the bot's logs
      - eval_time: 10m
        alertname: BudgetGateEvaluatorStalled
        exp_alerts: []
      - eval_time: 20m
        alertname: BudgetGateEvaluatorStalled
        exp_alerts:
          - exp_labels: { severity: sev1 }
            exp_annotations:
              summary: budget-gate's evaluator has not finished a round for 5m; error-budget alerts cannot page
              runbook: check /healthz on each replica (store, telemetry, github), then the bot's logs
      - eval_time: 12m
        alertname: BudgetGateRepositoryNotEvaluated
        exp_alerts: []
      - eval_time: 16m
        alertname: BudgetGateRepositoryNotEvaluated
        exp_alerts:
          - exp_labels: { severity: sev2, repository: acme/agents }
            exp_annotations:
              summary: budget-gate has not evaluated acme/agents for 10m
      - eval_time: 15m
        alertname: BudgetGateRevertFailed
        exp_alerts:
          - exp_labels: { severity: sev2, instance: bot-1 }
            exp_annotations:
              summary: a revert gave up; the shipping PR has a comment saying what to revert by hand
`;

function promtool(args: string[], cwd: string): string {
  try {
    return execFileSync('promtool', args, { cwd, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    const err = e as { code?: string; stdout?: string; stderr?: string; message: string };
    if (err.code === 'ENOENT')
      throw new Error("promtool not found: install Debian's prometheus package (scripts/test-deps does)");
    throw new Error(`promtool ${args.join(' ')}: ${err.stdout ?? ''}${err.stderr ?? err.message}`);
  }
}

describe("the README's alerts on the bot", () => {
  it('parse, and fire when they should', () => {
    expect(start).toBeGreaterThan(0);
    const dir = tempDir('bg-alerts-');
    writeFileSync(join(dir, 'rules.yml'), rules);
    writeFileSync(join(dir, 'tests.yml'), unitTests);
    expect(promtool(['check', 'rules', 'rules.yml'], dir)).toContain('SUCCESS: 5 rules found');
    expect(promtool(['test', 'rules', 'tests.yml'], dir)).toContain('SUCCESS');
  });
});
