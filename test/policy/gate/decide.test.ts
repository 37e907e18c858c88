import { describe, expect, it } from 'vitest';
import type { LabelEvent } from '../../../src/policy/gate/change.ts';
import { decide } from '../../../src/policy/gate/decide.ts';
import { decisionSchema } from '../../../src/policy/gate/decision-schema.ts';
import { AT, change, policy, resultFor, samplesFor } from '../fixtures.ts';

const p = policy();
const SLO = 'refunds-success';
// 300,000 tasks in the window; at 95% the budget is 15,000 bad tasks.
const soft = resultFor({ [SLO]: samplesFor(p, SLO, { events: 300_000, bad: 9_300 }, { '1d': 1.9 }) });
const hard = resultFor({ [SLO]: samplesFor(p, SLO, { events: 300_000, bad: 15_600 }, { '1d': 1.2 }) });
const fine = resultFor({ [SLO]: samplesFor(p, SLO, { events: 300_000, bad: 3_000 }, { '1d': 0.4 }) });
const tele = (result: ReturnType<typeof resultFor>) => ({ source: 'test', result, error: null });

const label = (name: string, who: string, at: number, extra: Partial<LabelEvent> = {}): LabelEvent => ({
  name,
  applied_by: who,
  applied_at: at,
  applier_teams: [],
  applier_permission: 'write',
  ...extra,
});

describe('decide', () => {
  it('SOFT-PAUSE blocks a prompt change and says which SLO, rule, numbers and what to do', () => {
    const d = decide({
      policy: p,
      at: AT,
      change: change(['prompts/refund.md', 'src/app.ts']),
      telemetry: tele(soft),
    });
    expect(decisionSchema.parse(d)).toEqual(d);
    expect(d).toMatchObject({ state: 'soft-pause', allowed: false, risk: 'high', revert: false });
    const pause = d.reasons.find((r) => r.code === 'soft-pause')!;
    expect(pause).toMatchObject({ slo: SLO, rule: 'states.soft_pause' });
    expect(pause.message).toContain('refunds-success has consumed 62% of its 30d budget');
    expect(pause.message).toContain('1.9x pace over 1d');
    expect(d.reasons.find((r) => r.code === 'high-risk')!.message).toBe(
      'prompts/refund.md is high risk (risk.rules[0]: prompts/**, models/**)',
    );
    expect(d.actions.join('\n')).toMatch(/^wait: /m);
    expect(d.actions.join('\n')).toMatch(
      /split the change: the 1 low-risk file can ship now; hold prompts\/refund.md/,
    );
    expect(d.actions.join('\n')).toContain('`override:catastrophic-event`');
    expect(d.slos[0]).toMatchObject({ events: 300_000, bad: 9_300, state: 'soft-pause' });
    expect(d.slos[0]!.consumed).toBeCloseTo(0.62, 9);
    expect(d.slos[0]!.budget).toBeCloseTo(15_000, 6);
  });

  it('SOFT-PAUSE lets a low-risk change through and says why', () => {
    const d = decide({ policy: p, at: AT, change: change(['docs/runbook.md']), telemetry: tele(soft) });
    expect(d).toMatchObject({ state: 'soft-pause', allowed: true, risk: 'low', actions: [] });
    expect(d.reasons.map((r) => r.code)).toContain('low-risk');
  });

  it('never judges a partial list of changed files as whole: unknown files count as high risk', () => {
    const listed = change(['docs/runbook.md'], { files_partial: true });
    const d = decide({ policy: p, at: AT, change: listed, telemetry: tele(soft) });
    expect(d).toMatchObject({ state: 'soft-pause', allowed: false, risk: 'high' });
    expect(d.reasons.find((r) => r.code === 'files-partial')?.message).toMatch(
      /GitHub listed only 1 of the files .* judged high risk/,
    );
    // "Split the change" would be advice about files nobody has seen.
    expect(d.actions.join('\n')).not.toMatch(/split the change/);
    const whole = decide({ policy: p, at: AT, change: change(['docs/runbook.md']), telemetry: tele(soft) });
    expect(whole).toMatchObject({ allowed: true, risk: 'low' });
  });

  it('HARD-PAUSE blocks every change but a revert', () => {
    const low = decide({ policy: p, at: AT, change: change(['docs/x.md']), telemetry: tele(hard) });
    expect(low).toMatchObject({ state: 'hard-pause', allowed: false });
    expect(low.reasons[0]!.rule).toBe('states.hard_pause.consumed');
    // A title is a claim anyone can write: the change is judged as what it is.
    const claimed = decide({
      policy: p,
      at: AT,
      change: change(['prompts/refund.md'], { title: 'Revert "Rewrite refund prompt"' }),
      telemetry: tele(hard),
    });
    expect(claimed).toMatchObject({ state: 'hard-pause', allowed: false, revert: false });
    expect(claimed.reasons.map((r) => r.code)).toContain('revert-unverified');
    const revert = decide({
      policy: p,
      at: AT,
      change: change(['prompts/refund.md'], {
        revert_evidence: { kind: 'inverse-diff', reverts: 'c'.repeat(40), files: 1 },
      }),
      telemetry: tele(hard),
    });
    expect(revert).toMatchObject({ state: 'hard-pause', allowed: true, revert: true });
    expect(revert.reasons.at(-1)!.message).toMatch(
      /exactly as before ccccccc, the commit it reverts\): reverts always pass, so it ships despite the hard-pause/,
    );
  });

  it('SHIP explains itself too', () => {
    const d = decide({ policy: p, at: AT, change: change(['prompts/a.md']), telemetry: tele(fine) });
    expect(d).toMatchObject({ state: 'ship', allowed: true });
    expect(d.reasons[0]!.message).toBe(
      'every SLO is within budget (most spent: refunds-success at 20% of its 30d budget)',
    );
  });

  it('an approver override lets a blocked change through; the author, a stale or an outsider label does not', () => {
    const c = (labels: LabelEvent[]) =>
      change(['prompts/a.md'], { labels, author: 'dev', last_push_at: AT - 7_200_000 });
    const ok = decide({
      policy: p,
      at: AT,
      change: c([label('override:catastrophic-event', 'sre-lead', AT - 600_000)]),
      telemetry: tele(soft),
    });
    expect(ok).toMatchObject({
      allowed: true,
      override: { reason: 'catastrophic-event', applied_by: 'sre-lead' },
    });
    const refusedCodes = (labels: LabelEvent[]) => {
      const d = decide({ policy: p, at: AT, change: c(labels), telemetry: tele(soft) });
      expect(d.allowed).toBe(false);
      expect(d.override).toBeNull();
      return d.override_refusals.map((r) => r.code);
    };
    expect(
      refusedCodes([label('override:slo-wrong', 'dev', AT - 600_000, { applier_permission: 'admin' })]),
    ).toEqual(['self-approval']);
    expect(refusedCodes([label('override:slo-wrong', 'sre-lead', AT - 8_000_000)])).toEqual([
      'before-last-push',
    ]);
    expect(refusedCodes([label('override:slo-wrong', 'mallory', AT - 600_000)])).toEqual(['not-an-approver']);
    expect(refusedCodes([label('override:because', 'sre-lead', AT - 600_000)])).toEqual(['unknown-reason']);
  });

  it('a team member approves; an override is not recorded when nothing was blocked', () => {
    const l = label('override:regulatory', 'teammate', AT - 60_000, { applier_teams: ['acme/sre'] });
    const d = decide({
      policy: p,
      at: AT,
      change: change(['prompts/a.md'], { labels: [l] }),
      telemetry: tele(fine),
    });
    expect(d).toMatchObject({ allowed: true, override: null, override_refusals: [] });
  });

  it('telemetry errors fail closed by default, with the reason', () => {
    const d = decide({
      policy: p,
      at: AT,
      change: change(['docs/a.md']),
      telemetry: { source: 'prometheus http://127.0.0.1:1', result: null, error: 'connection refused' },
    });
    expect(d).toMatchObject({ state: 'hard-pause', allowed: false, slos: [] });
    expect(d.reasons[0]).toMatchObject({ code: 'telemetry-error', rule: 'states.on_telemetry_error' });
    expect(d.reasons[0]!.message).toContain('connection refused');
  });

  it('telemetry errors let changes through when the policy says allow', () => {
    const lenient = policy(
      `${'version: 1\nslos:\n  - { name: s, sli: { kind: success }, target: 0.9, window: 7d, scope: all }\n'}states:\n  on_telemetry_error: allow\n`,
    );
    const d = decide({
      policy: lenient,
      at: AT,
      change: change(['a']),
      telemetry: { source: 'x', result: null, error: 'timeout' },
    });
    expect(d).toMatchObject({ state: 'ship', allowed: true });
    expect(d.reasons[0]!.code).toBe('telemetry-error');
  });

  it('too little traffic blocks high-risk changes and lets low-risk ones through by default', () => {
    const thin = resultFor({ [SLO]: samplesFor(p, SLO, { events: 40, bad: 39 }, { '1d': 50 }) });
    const high = decide({ policy: p, at: AT, change: change(['models/m.json']), telemetry: tele(thin) });
    expect(high).toMatchObject({ state: 'ship', allowed: false });
    expect(high.reasons[0]).toMatchObject({ code: 'insufficient-data' });
    expect(high.reasons[0]!.message).toContain('refunds-success (40 of 100 tasks)');
    const low = decide({ policy: p, at: AT, change: change(['docs/a.md']), telemetry: tele(thin) });
    expect(low.allowed).toBe(true);
  });

  it('firing alerts appear in the decision', () => {
    const burning = resultFor({
      [SLO]: samplesFor(
        p,
        SLO,
        { events: 300_000, bad: 3_000 },
        { '5m': 20, '1h': 15, '30m': 7, '6h': 6.5, '1d': 1 },
      ),
    });
    const d = decide({ policy: p, at: AT, change: change(['a']), telemetry: tele(burning) });
    expect(d.alerts.map((a) => [a.name, a.severity])).toEqual([
      ['fast-burn', 'sev1'],
      ['steady-burn', 'sev2'],
    ]);
  });
});
