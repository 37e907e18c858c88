import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consumedOf } from '../../../src/policy/gate/budget.ts';
import { decide } from '../../../src/policy/gate/decide.ts';
import type { State } from '../../../src/policy/gate/decision-schema.ts';
import { lookbacksOf } from '../../../src/policy/gate/plan.ts';
import { countSample, lookbackKey, RANGE_WINDOW, type Sample } from '../../../src/policy/gate/sample.ts';
import { evaluateSlo } from '../../../src/policy/gate/slo-report.ts';
import { AT, change, policy } from '../fixtures.ts';

const RANK: Record<State, number> = { ship: 0, 'soft-pause': 1, 'hard-pause': 2 };
const target = fc.double({ min: 0.5, max: 0.9999, noNaN: true });

/** Window and lookback counts that are consistent: each lookback is a part of the window. */
const traffic = fc.record({
  events: fc.integer({ min: 0, max: 2_000_000 }),
  badShare: fc.double({ min: 0, max: 1, noNaN: true }),
  recentShare: fc.double({ min: 0, max: 1, noNaN: true }),
  recentBad: fc.double({ min: 0, max: 1, noNaN: true }),
});

type Traffic = { events: number; badShare: number; recentShare: number; recentBad: number };

function ranges(windowText: string, t: Traffic, added: number) {
  const p = policy(
    `version: 1\nslos:\n  - { name: s, sli: { kind: success }, target: 0.95, window: ${windowText}, scope: all }\n`,
  );
  const bad = Math.floor(t.events * t.badShare);
  const recent = Math.floor(t.events * t.recentShare);
  const recentBad = Math.min(bad, Math.floor(recent * t.recentBad));
  // Bad events added now land in the window and in every lookback.
  const r: Record<string, Sample> = { [RANGE_WINDOW]: countSample(t.events + added, bad + added) };
  for (const spec of lookbacksOf(p).map((d) => d.text))
    r[lookbackKey(spec)] = countSample(recent + added, recentBad + added);
  return { p, r };
}

describe('budget math properties', () => {
  it('consumed never decreases when bad events are added', () => {
    fc.assert(
      fc.property(
        target,
        fc.integer({ min: 1, max: 1e7 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 1e6 }),
        (tg, events, share, k) => {
          const bad = Math.floor(events * share);
          expect(consumedOf(countSample(events + k, bad + k), tg)!).toBeGreaterThanOrEqual(
            consumedOf(countSample(events, bad), tg)!,
          );
        },
      ),
    );
  });

  it.each(['30d', '7d', 'week', 'month'])(
    'the state never loosens when bad events are added (%s window)',
    (w) => {
      fc.assert(
        fc.property(
          traffic,
          fc.integer({ min: 1, max: 500_000 }),
          fc.integer({ min: 0, max: 40 * 86_400_000 }),
          (t, k, shift) => {
            const at = AT - shift;
            const before = ranges(w, t, 0);
            const after = ranges(w, t, k);
            const s0 = evaluateSlo(before.p, before.p.slos[0]!, { ranges: before.r }, at).report.state;
            const s1 = evaluateSlo(after.p, after.p.slos[0]!, { ranges: after.r }, at).report.state;
            expect(RANK[s1]).toBeGreaterThanOrEqual(RANK[s0]);
          },
        ),
      );
    },
  );

  it('a decision never goes from blocked to allowed when bad events are added', () => {
    fc.assert(
      fc.property(traffic, fc.integer({ min: 1, max: 500_000 }), fc.boolean(), (t, k, high) => {
        const files = high ? ['prompts/x.md'] : ['docs/x.md'];
        const d = (added: number) => {
          const { p, r } = ranges('30d', t, added);
          return decide({
            policy: p,
            at: AT,
            change: change(files),
            telemetry: { source: 't', result: { slos: { s: { ranges: r } } }, error: null },
          });
        };
        if (!d(0).allowed) expect(d(k).allowed).toBe(false);
      }),
    );
  });

  it('burn rate 1.0 held over a whole window spends exactly the budget', () => {
    fc.assert(
      fc.property(
        target,
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 60 }),
        (tg, perStep, steps) => {
          // Each step spends bad events at exactly (1 - target) of its traffic: burn 1.0.
          let events = 0;
          let bad = 0;
          for (let i = 0; i < steps; i++) {
            events += perStep;
            bad += (1 - tg) * perStep;
          }
          expect(consumedOf(countSample(events, bad), tg)!).toBeCloseTo(1, 9);
        },
      ),
    );
  });
});
