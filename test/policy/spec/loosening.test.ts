import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loosenings, rulesProvablyTighter } from '../../../src/policy/spec/loosening.ts';
import { type Policy, policySchema } from '../../../src/policy/spec/schema.ts';
import { DEMO_POLICY } from '../../../src/scenarios/demo.ts';

// A change to the policy is judged against the policy in force: every edit that is not provably
// tighter is listed. Edits are made on the YAML's input object (as a person edits the file) and
// loaded through the schema, so defaults and parsed durations are what the gate would see.

// biome-ignore lint/suspicious/noExplicitAny: the policy's YAML, edited as a person would.
type Input = any;
const DEMO: Input = parse(readFileSync(DEMO_POLICY, 'utf8'));
const load = (input: Input): Policy => policySchema.parse(input);
const edit = (input: Input, f: (p: Input) => void): Input => {
  const copy = structuredClone(input);
  f(copy);
  return copy;
};
const keysOf = (a: Input, b: Input) => loosenings(load(a), { kind: 'ok', policy: load(b) }).map((l) => l.key);

/** Edits that can only make the policy stricter; `n` picks where and how much. */
const TIGHTENINGS: Record<string, (p: Input, n: number) => void> = {
  'hard line lowered': (p, n) => {
    p.states.hard_pause.consumed = Math.max(0.01, p.states.hard_pause.consumed - (n % 50) / 100);
  },
  'soft line lowered': (p, n) => {
    p.states.soft_pause.consumed = Math.max(0.01, p.states.soft_pause.consumed - (n % 40) / 100);
  },
  'pace factor lowered': (p, n) => {
    p.states.soft_pause.pace_factor = Math.max(0.1, p.states.soft_pause.pace_factor - (n % 5) / 10);
  },
  'exhaustion horizon lengthened': (p, n) => {
    p.states.hard_pause.exhaustion_within = `${3 + (n % 5)}d`;
  },
  'target raised': (p, n) => {
    const s = p.slos[n % p.slos.length];
    const t = typeof s.target === 'string' ? Number.parseFloat(s.target) / 100 : s.target;
    s.target = Math.min(0.999, t + (n % 4) / 1000);
  },
  'telemetry error blocks': (p) => {
    p.states.on_telemetry_error = 'block';
  },
  'insufficient data blocks': (p) => {
    p.states.on_insufficient_data = 'block';
  },
  'high rule inserted': (p, n) => {
    p.risk.rules.splice(n % (p.risk.rules.length + 1), 0, { paths: [`agents/x${n}/**`], class: 'high' });
  },
  'low rule raised': (p, n) => {
    const low = p.risk.rules.filter((r: Input) => r.class === 'low');
    if (low.length) low[n % low.length].class = 'high';
  },
  'low rule dropped': (p, n) => {
    const i = p.risk.rules.findIndex((r: Input, j: number) => r.class === 'low' && j >= n % 2);
    if (i >= 0) p.risk.rules.splice(i, 1);
  },
  'default raised': (p) => {
    p.risk.default = 'high';
  },
  'approver removed': (p) => {
    p.overrides.approvers.users = p.overrides.approvers.users.slice(1);
  },
  'reason removed': (p, n) => {
    if (p.overrides.reasons.length > 1) p.overrides.reasons.splice(n % p.overrides.reasons.length, 1);
  },
  'expiry shortened': (p, n) => {
    p.overrides.expires_after = `${1 + (n % 23)}h`;
  },
  'auto-revert share lowered': (p, n) => {
    p.auto_revert.consumed = Math.max(0.001, p.auto_revert.consumed - (n % 5) / 1000);
  },
  'auto-revert rate lowered': (p, n) => {
    p.auto_revert.burn_rate = Math.max(0.01, p.auto_revert.burn_rate - (n % 10) / 100);
  },
  'auto-revert watches longer': (p, n) => {
    p.auto_revert.within = `${60 + (n % 120)}m`;
  },
  'auto-revert less sure': (p, n) => {
    p.auto_revert.confidence = Math.max(0.51, p.auto_revert.confidence - (n % 40) / 100);
  },
  'auto-revert by projection': (p) => {
    p.auto_revert.projected = true;
  },
  'auto-revert merges': (p) => {
    p.auto_revert.merge = 'auto';
  },
  'alert raised': (p, n) => {
    const a = p.alerts[n % p.alerts.length];
    a.severity = 'sev1';
    a.action = 'page';
    a.burn_rate = Math.max(0.5, a.burn_rate - (n % 3));
  },
  'environment added': (p, n) => {
    p.environments = [...(p.environments ?? ['production']), `canary-${n}`];
  },
  'slo added': (p, n) => {
    p.slos.push({ name: `extra-${n}`, sli: { kind: 'success' }, target: 0.9, window: '7d', scope: 'all' });
  },
};

/** One edit that loosens, and the key the judgement must name. */
const LOOSENINGS: Array<[string, (p: Input) => void]> = [
  [
    'states.hard_pause.consumed',
    (p) => {
      p.states.hard_pause.consumed += 0.1;
    },
  ],
  [
    'states.hard_pause.exhaustion_within',
    (p) => {
      delete p.states.hard_pause.exhaustion_within;
    },
  ],
  [
    'states.soft_pause.consumed',
    (p) => {
      p.states.soft_pause.consumed += 0.05;
    },
  ],
  [
    'states.soft_pause.pace_factor',
    (p) => {
      p.states.soft_pause.pace_factor += 0.5;
    },
  ],
  [
    'states.soft_pause.pace_lookback',
    (p) => {
      p.states.soft_pause.pace_lookback = '3d';
    },
  ],
  [
    'states.min_events',
    (p) => {
      p.states.min_events = 5000;
    },
  ],
  [
    'states.on_telemetry_error',
    (p) => {
      p.states.on_telemetry_error = 'allow';
    },
  ],
  [
    'states.on_insufficient_data',
    (p) => {
      p.states.on_insufficient_data = 'allow';
    },
  ],
  [
    'slos[tasks-success-paid].target',
    (p) => {
      p.slos[0].target = 0.5;
    },
  ],
  [
    'slos[tasks-success-paid].source',
    (p) => {
      p.slos[0].source.prometheus.bad = 'vector(0)';
    },
  ],
  [
    'slos[tasks-success-paid].scope',
    (p) => {
      p.slos[0].scope = { tier: 'nobody' };
    },
  ],
  [
    'slos[tasks-success-paid].window',
    (p) => {
      p.slos[0].window = '7d';
    },
  ],
  [
    'slos[tasks-success-paid]',
    (p) => {
      p.slos.splice(0, 1);
    },
  ],
  [
    'slos[task-latency-paid].sli.threshold_ms',
    (p) => {
      p.slos[2].sli.threshold_ms += 1;
    },
  ],
  [
    'risk.rules',
    (p) => {
      // Reordered: a low rule that matched last (harmless at default low) now matches first.
      p.risk.rules.push({ paths: ['prompts/refund.md'], class: 'low' });
      p.risk.rules.reverse();
    },
  ],
  [
    'risk.rules',
    (p) => {
      p.risk.rules.unshift({ paths: ['prompts/refund.md'], class: 'low' });
    },
  ],
  [
    'risk.rules',
    (p) => {
      p.risk.rules.find((r: Input) => r.class === 'high').class = 'low';
    },
  ],
  [
    'risk.rules',
    (p) =>
      void p.risk.rules.splice(
        p.risk.rules.findIndex((r: Input) => r.class === 'high'),
        1,
      ),
  ],
  [
    'risk.rules',
    (p) => {
      p.risk.rules.find((r: Input) => r.class === 'high' && r.paths.length > 1).paths.pop();
    },
  ],
  [
    'overrides.approvers.users',
    (p) => {
      p.overrides.approvers.users.push('mallory');
    },
  ],
  [
    'overrides.approvers.teams',
    (p) => {
      p.overrides.approvers.teams.push('acme/everyone');
    },
  ],
  [
    'overrides.approvers.min_permission',
    (p) => {
      p.overrides.approvers.min_permission = 'write';
    },
  ],
  [
    'overrides.reasons',
    (p) => {
      p.overrides.reasons.push('because');
    },
  ],
  [
    'overrides.expires_after',
    (p) => {
      p.overrides.expires_after = '30d';
    },
  ],
  [
    'overrides.audit.branch',
    (p) => {
      p.overrides.audit.branch = 'tmp/quiet';
    },
  ],
  [
    'overrides.audit.path',
    (p) => {
      p.overrides.audit.path = 'elsewhere.jsonl';
    },
  ],
  [
    'auto_revert.enabled',
    (p) => {
      p.auto_revert.enabled = false;
    },
  ],
  [
    'auto_revert.mode',
    (p) => {
      p.auto_revert.mode = 'shadow';
    },
  ],
  [
    'auto_revert.app',
    (p) => {
      p.auto_revert.app = 'friendly-bot';
    },
  ],
  [
    'auto_revert.consumed',
    (p) => {
      p.auto_revert.consumed += 0.5;
    },
  ],
  [
    'auto_revert.within',
    (p) => {
      p.auto_revert.within = '5m';
    },
  ],
  [
    'auto_revert.burn_rate',
    (p) => {
      p.auto_revert.burn_rate += 10;
    },
  ],
  [
    'auto_revert.confidence',
    (p) => {
      p.auto_revert.confidence = 0.9999;
    },
  ],
  [
    'auto_revert.min_events',
    (p) => {
      p.auto_revert.min_events += 1000;
    },
  ],
  [
    'auto_revert.baseline',
    (p) => {
      p.auto_revert.baseline = '5m';
    },
  ],
  [
    'auto_revert.projected',
    (p) => {
      p.auto_revert.projected = false;
    },
  ],
  [
    'auto_revert.merge',
    (p) => {
      p.auto_revert.merge = 'manual';
    },
  ],
  [
    'alerts[fast-burn]',
    (p) => {
      p.alerts.splice(0, 1);
    },
  ],
  [
    'alerts[fast-burn].severity',
    (p) => {
      p.alerts[0].severity = 'sev3';
    },
  ],
  [
    'alerts[fast-burn].burn_rate',
    (p) => {
      p.alerts[0].burn_rate = 100;
    },
  ],
  [
    'alerts[fast-burn].action',
    (p) => {
      p.alerts[0].action = 'ticket';
    },
  ],
  [
    'oncall',
    (p) => {
      p.oncall.members = ['alice', 'bob'];
    },
  ],
  [
    'environments',
    (p) => {
      p.environments = ['staging'];
    },
  ],
];

const tightened = fc
  .record({
    picks: fc.subarray(Object.keys(TIGHTENINGS)),
    n: fc.nat({ max: 1000 }),
  })
  .map(({ picks, n }) =>
    edit(DEMO, (p) => {
      // Make room for the edits that need one (a merge mode to raise from, a projection to keep).
      p.auto_revert.merge = 'auto';
      p.auto_revert.projected = true;
      for (const k of picks) TIGHTENINGS[k]!(p, n);
    }),
  );

describe('what a policy change loosens', () => {
  it('an unchanged policy loosens nothing (property: any tightened policy against itself)', () => {
    fc.assert(
      fc.property(tightened, (p) => {
        expect(keysOf(p, p)).toEqual([]);
      }),
    );
  });

  it('tightening is never reported as loosening (property: any set of tightening edits)', () => {
    fc.assert(
      fc.property(fc.subarray(Object.keys(TIGHTENINGS)), fc.nat({ max: 1000 }), (picks, n) => {
        const after = edit(DEMO, (p) => {
          for (const k of picks) TIGHTENINGS[k]!(p, n);
        });
        expect(keysOf(DEMO, after)).toEqual([]);
      }),
    );
  });

  it('any single loosening edit is caught, whatever was tightened before it (property, every edit)', () => {
    // Every edit on its own draws of the tightened policies: none is left to chance, and 40 each
    // (1,720 in all) find what 5,000 draws over all of them did.
    for (const [key, loosen] of LOOSENINGS)
      fc.assert(
        fc.property(tightened, (inForce) => {
          const keys = keysOf(inForce, edit(inForce, loosen));
          expect(
            keys.some((k) => k === key || k.startsWith(`${key}[`)),
            `${key} in ${keys.join(', ')}`,
          ).toBe(true);
        }),
        { numRuns: 40 },
      );
  });

  it('names the key with the old and the new value', () => {
    const after = edit(DEMO, (p) => {
      p.states.hard_pause.consumed = 1.5;
      p.risk.rules[0].class = 'low';
      p.overrides.approvers.users.push('mallory');
    });
    expect(loosenings(load(DEMO), { kind: 'ok', policy: load(after) })).toEqual([
      { key: 'states.hard_pause.consumed', from: '1', to: '1.5' },
      {
        key: 'risk.rules[0]',
        from: 'prompts/**, models/**, config/model*.yml → high',
        to: 'prompts/**, models/**, config/model*.yml → low',
      },
      { key: 'overrides.approvers.users', from: 'sre-lead', to: 'sre-lead, mallory' },
    ]);
  });

  it('a deleted or unreadable policy loosens everything', () => {
    expect(loosenings(load(DEMO), { kind: 'deleted' })).toEqual([
      { key: '(file)', from: 'the policy', to: 'deleted' },
    ]);
    expect(loosenings(load(DEMO), { kind: 'invalid', message: 'x.yml:3:1 slos: expected an array' })).toEqual(
      [{ key: '(file)', from: 'a valid policy', to: 'invalid: x.yml:3:1 slos: expected an array' }],
    );
  });

  it('risk rules: only raised classes, dropped low rules and inserted high rules are provably tighter', () => {
    const H = (p: string) => ({ paths: [p], class: 'high' as const });
    const L = (p: string) => ({ paths: [p], class: 'low' as const });
    expect(rulesProvablyTighter([H('a'), L('b')], [H('x'), H('a'), H('b')])).toBe(true);
    expect(rulesProvablyTighter([L('b'), H('a')], [H('a')])).toBe(true);
    expect(rulesProvablyTighter([H('a'), L('b')], [L('b'), H('a')])).toBe(false);
    expect(rulesProvablyTighter([H('a')], [H('a'), L('b')])).toBe(false);
    expect(rulesProvablyTighter([H('a'), H('a')], [H('a')])).toBe(false);
  });
});
