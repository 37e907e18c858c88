import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/policy/gate/decide.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { renderHeadline } from '../../src/report/headline.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderText } from '../../src/report/text.ts';
import { textChart } from '../../src/report/text-chart.ts';
import { DEMO_POLICY } from '../../src/scenarios/demo.ts';

const { policy } = loadPolicy(readFileSync(DEMO_POLICY, 'utf8'), 'error-budget.yml');
const at = Date.parse('2026-11-20T09:00:00Z');
const DAY = 86_400_000;

/** Samples for every range the SLOs need: `ratio` bad in every range, `events` per range. */
function telemetry(badRatio: Record<string, number>, events = 10_000) {
  const slos: Record<string, { ranges: Record<string, { events: number; bad: number; ratio: number }> }> = {};
  for (const slo of policy.slos) {
    const r = badRatio[slo.name] ?? 0.01;
    const ranges: Record<string, { events: number; bad: number; ratio: number }> = {};
    for (const key of [
      'window',
      ...['5m', '30m', '1h', '2h', '6h', '1d', '3d'].map((l) => `lookback:${l}`),
    ]) {
      ranges[key] = { events, bad: events * r, ratio: r };
    }
    for (let i = 0; i < 24; i++)
      ranges[`series:${i}`] = { events: events / 24, bad: (events / 24) * r, ratio: r };
    slos[slo.name] = { ranges };
  }
  return { slos };
}

const change = (files: string[]) => ({ files, labels: [], author: 'dev', last_push_at: null });

describe('renderers', () => {
  it('headline: state, the risky file, the SLO with its numbers', () => {
    // 3.1% bad at a 95% target: 62% consumed, burning 0.62x... so make the pace burn 1.9x via 1d.
    const t = telemetry({ 'tasks-success-paid': 0.031 });
    t.slos['tasks-success-paid']!.ranges['lookback:1d'] = { events: 1000, bad: 95, ratio: 0.095 };
    const d = decide({
      policy,
      at,
      change: change(['prompts/refund.md']),
      telemetry: { source: 'test', result: t, error: null },
    });
    expect(renderHeadline(d)).toBe(
      'SOFT-PAUSE — prompts/refund.md is high risk — tasks-success-paid 62% consumed at 1.9x pace — blocked',
    );
  });

  it('headline for a healthy fleet and for a revert under HARD-PAUSE', () => {
    const ok = decide({
      policy,
      at,
      change: change(['src/a.ts']),
      telemetry: { source: 'test', result: telemetry({}), error: null },
    });
    expect(renderHeadline(ok)).toMatch(/^SHIP — every SLO is within budget \(most spent: /);
    const burning = telemetry({ 'task-cost': 0.08 });
    const revert = decide({
      policy,
      at,
      change: {
        ...change(['prompts/refund.md']),
        revert_evidence: { kind: 'inverse-diff', reverts: 'a'.repeat(40), files: 1 },
      },
      telemetry: { source: 'test', result: burning, error: null },
    });
    expect(revert.state).toBe('hard-pause');
    expect(renderHeadline(revert)).toMatch(
      /^HARD-PAUSE — a revert: reverts always pass — prompts\/refund.md is high risk — task-cost 160% consumed/,
    );
  });

  it('headline when telemetry is down says so and blocks', () => {
    const d = decide({
      policy,
      at,
      change: change(['src/a.ts']),
      telemetry: { source: 'prometheus http://p', result: null, error: 'connection refused' },
    });
    expect(renderHeadline(d)).toBe('HARD-PAUSE — telemetry unavailable (connection refused)');
    expect(d.allowed).toBe(false);
  });

  it('markdown has the verdict, reasons, actions, SLO table and a Mermaid chart with both pause lines', () => {
    const d = decide({
      policy,
      at,
      change: change(['prompts/refund.md']),
      telemetry: { source: 'test', result: telemetry({ 'task-cost': 0.08 }), error: null },
    });
    const md = renderMarkdown(d);
    expect(md).toContain('### 🔴 HARD-PAUSE — blocked');
    expect(md).toContain('| SLO | target | window | tasks | bad | consumed |');
    expect(md).toContain('| task-cost | 95% | month | 10,000 | 800 | 160% |');
    expect(md).toContain(
      '```mermaid\n%%{init: {"themeVariables":{"xyChart":{"plotColorPalette":"#bf8700, #e5534b, #2f81f7"}}}}%%\nxychart-beta',
    );
    // A month 19 days old: a day-of-month axis, the pause lines end to end, consumed at 25 points.
    expect(md).toContain('x-axis "day of November (UTC)" 1 --> 20.359375');
    expect(md).toContain('  line [50, 50]\n  line [100, 100]\n  line [0, ');
    expect(md).toContain(
      '🟦 blue: budget consumed · 🟧 amber: soft-pause line (50%) · 🟥 red: hard-pause line (100%)',
    );
    expect(md).toContain('**What you can do**');
  });

  it('text chart draws consumed over the window and the soft-pause line', () => {
    const series = Array.from({ length: 10 }, (_, i) => ({
      at: new Date(at - (10 - i) * DAY).toISOString(),
      consumed: (i + 1) / 10,
    }));
    const lines = textChart(
      {
        ...decide({
          policy,
          at,
          change: change([]),
          telemetry: { source: 't', result: telemetry({}), error: null },
        }).slos[0]!,
        series,
      },
      0.5,
    );
    expect(lines).toHaveLength(10);
    // The last column (100%) reaches the top row; the first (10%) only the bottom one.
    expect(lines[0]!.trimEnd().endsWith('█')).toBe(true);
    // Eight rows of 12.5%: the soft-pause line (50%) is the top edge of the fifth row from the top.
    expect(lines[4]).toContain('50% ┤');
    expect(lines[4]).toContain('┄ soft-pause line');
    const text = renderText(
      decide({
        policy,
        at,
        change: change([]),
        telemetry: { source: 't', result: telemetry({}), error: null },
      }),
    );
    expect(text).toContain('evaluated at 2026-11-20 09:00 UTC from t');
  });
});
