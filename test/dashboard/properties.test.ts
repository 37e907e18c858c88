import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { html } from '../../src/dashboard/html.ts';
import { sortFleet } from '../../src/dashboard/pages/fleet.ts';
import type { FleetRow } from '../../src/dashboard/ports.ts';
import { sealer } from '../../src/dashboard/session.ts';

// Properties of the pieces every page and every session rests on: escaping loses nothing and
// lets nothing through, sorting is a permutation in the asked order, a sealed session cannot be
// altered, read under another secret, or used after its expiry.

const decode = (s: string) =>
  s.replace(
    /&(lt|gt|quot|#39|amp);/g,
    (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!,
  );

describe('html escaping', () => {
  it('turns any text into text: no markup character survives, and decoding gives it back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = html`<p title="${s}">${s}</p>`.value;
        const inner = out.slice(out.indexOf('>') + 1, -4);
        expect(inner).not.toMatch(/[<>"']/);
        expect(decode(inner)).toBe(s);
      }),
    );
  });
});

const row = fc.record({
  repo: fc.stringMatching(/^[a-z]{1,4}\/[a-z0-9]{1,4}$/),
  environment: fc.constantFrom('production', 'staging'),
  state: fc.constantFrom('ship', 'soft-pause', 'hard-pause') as fc.Arbitrary<FleetRow['state']>,
  worst_slo: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: null }),
  remaining: fc.option(fc.double({ min: -1, max: 1, noNaN: true }), { nil: null }),
  burn: fc.option(fc.double({ min: 0, max: 50, noNaN: true }), { nil: null }),
  alerts: fc.nat(5),
  evaluated_at: fc.constant('2026-11-20T09:00:00.000Z'),
});

describe('fleet sorting', () => {
  it('is a permutation, in the asked order, with unknown figures last', () => {
    fc.assert(
      fc.property(
        fc.array(row, { maxLength: 40 }),
        fc.constantFrom('asc', 'desc') as fc.Arbitrary<'asc' | 'desc'>,
        (rows, dir) => {
          const sorted = sortFleet(rows, 'burn', dir);
          expect([...sorted].sort((a, b) => a.repo.localeCompare(b.repo))).toEqual(
            [...rows].sort((a, b) => a.repo.localeCompare(b.repo)),
          );
          const known = sorted.filter((r) => r.burn !== null).map((r) => r.burn!);
          expect(known).toEqual([...known].sort((a, b) => (dir === 'asc' ? a - b : b - a)));
          const firstNull = sorted.findIndex((r) => r.burn === null);
          if (firstNull >= 0) expect(sorted.slice(firstNull).every((r) => r.burn === null)).toBe(true);
        },
      ),
    );
  });
});

describe('sealed sessions', () => {
  const a = sealer('a'.repeat(32), 'session');
  it('open what they sealed before the expiry, and nothing after it', () => {
    const s = a.seal({ login: 'alice' }, 1_000);
    expect(a.open(s, 999)).toEqual({ login: 'alice' });
    expect(a.open(s, 1_000)).toBeNull();
  });
  it('refuse any altered byte, another secret, and another purpose', () => {
    const s = a.seal({ login: 'alice' }, 10_000);
    fc.assert(
      fc.property(
        fc.nat(s.length - 1),
        fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
        (i, c) => {
          fc.pre(s[i] !== c);
          const altered = s.slice(0, i) + c + s.slice(i + 1);
          // The last character may carry only padding bits; everything else is authenticated.
          if (i < s.length - 1) expect(a.open(altered, 0)).toBeNull();
        },
      ),
    );
    expect(sealer('b'.repeat(32), 'session').open(s, 0)).toBeNull();
    expect(sealer('a'.repeat(32), 'oauth-state').open(s, 0)).toBeNull();
    expect(() => sealer('short', 'session')).toThrow(/at least 32/);
  });
});
