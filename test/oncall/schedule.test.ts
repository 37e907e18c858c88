import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { oncallWarnings } from '../../src/policy/oncall/lint.ts';
import { ackWindow, escalationPath, inBusinessHours } from '../../src/policy/oncall/rotation.ts';
import { routeSeverity } from '../../src/policy/oncall/routing.ts';
import { crewAt, type Rotation, rotationOf, shiftAt } from '../../src/policy/oncall/schedule.ts';
import { wallClock } from '../../src/policy/oncall/zone.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { oncallPolicy, oncallProblems } from './fixtures.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

// An oracle that shares nothing with zone.ts: the zone's offset as Intl prints it ("GMT+01:00").
const offsetFormats = new Map<string, Intl.DateTimeFormat>();
function offsetMs(zone: string, t: number): number {
  let f = offsetFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    offsetFormats.set(zone, f);
  }
  const name = f.formatToParts(t).find((p) => p.type === 'timeZoneName')!.value;
  const m = /GMT(?:([+-])(\d{2}):(\d{2}))?/.exec(name)!;
  return m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * HOUR + Number(m[3]) * MIN) : 0;
}

const transitionCache = new Map<string, number[]>();

/** Every instant in a year at which the zone's offset changes, to the minute. */
function transitions(zone: string, year: number): number[] {
  const cached = transitionCache.get(`${zone}|${year}`);
  if (cached) return cached;
  const out: number[] = [];
  const end = Date.UTC(year + 1, 0, 1);
  for (let t = Date.UTC(year, 0, 1); t < end; t += HOUR) {
    if (offsetMs(zone, t) === offsetMs(zone, t + HOUR)) continue;
    let lo = t;
    let hi = t + HOUR;
    while (hi - lo > MIN) {
      const mid = lo + Math.floor((hi - lo) / MIN / 2) * MIN;
      if (offsetMs(zone, mid) === offsetMs(zone, t)) lo = mid;
      else hi = mid;
    }
    out.push(hi);
  }
  transitionCache.set(`${zone}|${year}`, out);
  return out;
}

/**
 * When a wall-clock time on a date happens, by the rule the issue states: the first occurrence of a
 * repeated time, the first instant after the gap for a skipped one.
 */
function expectedHandoff(zone: string, day: number, minutes: number): number {
  const wall = day * DAY + minutes * MIN;
  const offsets = new Set([offsetMs(zone, wall - DAY), offsetMs(zone, wall), offsetMs(zone, wall + DAY)]);
  const hits = [...offsets].map((o) => wall - o).filter((t) => t + offsetMs(zone, t) === wall);
  if (hits.length > 0) return Math.min(...hits);
  return transitions(zone, new Date(wall).getUTCFullYear()).find(
    (t) => t >= wall - 14 * HOUR && t <= wall + 14 * HOUR,
  )!;
}

const rotation = (zone: string, at: number, members = ['a', 'b', 'c']): Rotation => ({
  members,
  zone,
  every: 'day',
  at,
  startDay: Date.UTC(2026, 0, 5) / DAY,
  primaryOnly: false,
});

describe('handoffs across DST, minute by minute on every transition night', () => {
  // Half-hour DST (Lord Howe) and a change at midnight (Santiago: 24:00 does not exist) included.
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago'];
  for (const zone of zones) {
    it(`${zone}: one primary at every minute, handing over once per handoff at the instant the rule names`, () => {
      const nights = transitions(zone, 2026);
      expect(nights.length).toBe(2);
      const bad: string[] = [];
      let handoffs = 0;
      for (const night of nights) {
        // Every quarter hour from 22:00 to 04:00, which covers each zone's change.
        const times = [
          ...Array.from({ length: 16 }, (_, i) => i * 15),
          ...Array.from({ length: 8 }, (_, i) => 22 * 60 + i * 15),
        ];
        for (const at of times) {
          const r = rotation(zone, at);
          let prev = crewAt(r, night - 14 * HOUR);
          for (let t = night - 14 * HOUR + MIN; t <= night + 14 * HOUR; t += MIN) {
            const now = crewAt(r, t);
            const when = `${zone} handoff ${at} at ${new Date(t).toISOString()}`;
            if (!r.members.includes(now.primary) || now.secondary === now.primary)
              bad.push(`${when}: ${now.primary}/${now.secondary}`);
            if (now.index === prev.index) {
              if (now.primary !== prev.primary) bad.push(`${when}: primary changed within a shift`);
            } else {
              // Forward by exactly one shift, never back to the previous person.
              if (now.index !== prev.index + 1) bad.push(`${when}: shift ${prev.index} → ${now.index}`);
              const handoff = expectedHandoff(zone, r.startDay + now.index, at);
              // Handoffs fall on whole minutes in these zones, so the minute scan meets each exactly.
              if (t !== handoff)
                bad.push(`${when}: expected the handoff at ${new Date(handoff).toISOString()}`);
              const s = shiftAt(r, t);
              const before = shiftAt(r, t - MIN);
              if (s.starts !== handoff || before.ends !== handoff || before.next.primary !== s.primary)
                bad.push(`${when}: shift bounds ${s.starts} / ${before.ends}`);
              handoffs++;
            }
            prev = now;
          }
        }
      }
      expect(bad).toEqual([]);
      // 24 handoff times, each handing over once or twice in the 28 hours around each of 2 nights.
      expect(handoffs).toBeGreaterThanOrEqual(2 * 24);
    });
  }

  it('Berlin 02:30: on the spring night at 03:00 (after the gap), on the autumn night at the first 02:30', () => {
    const r = rotation('Europe/Berlin', 150);
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z).
    expect(shiftAt(r, Date.parse('2026-03-29T01:30:00Z')).starts).toBe(Date.parse('2026-03-29T01:00:00Z'));
    expect(crewAt(r, Date.parse('2026-03-29T00:59:00Z')).index).toBe(
      crewAt(r, Date.parse('2026-03-29T01:00:00Z')).index - 1,
    );
    // 2026-10-25: 02:30 CEST (00:30Z) and again 02:30 CET (01:30Z): the first one hands over, for good.
    const first = Date.parse('2026-10-25T00:30:00Z');
    expect(shiftAt(r, first).starts).toBe(first);
    for (let t = first; t < first + 2 * HOUR; t += MIN)
      expect(crewAt(r, t).index).toBe(crewAt(r, first).index);
  });
});

describe('any instant, any zone, any handoff time (sampled over three years)', () => {
  const zones = [
    'Europe/Berlin',
    'America/New_York',
    'Asia/Kolkata',
    'Australia/Lord_Howe',
    'America/Santiago',
    'UTC',
  ];
  it('the shift holds the instant, the crew is constant over it, and `next` takes over at its end', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.constantFrom(...zones),
        fc.constantFrom('day' as const, 'week' as const),
        fc.integer({ min: 0, max: 24 * 60 - 1 }),
        fc.integer({ min: 0, max: 24 * 60 - 1 }),
        fc.integer({ min: 0, max: 24 * 60 - 1 }),
        fc.boolean(),
        fc.integer({ min: Date.parse('2026-01-05T00:00:00Z'), max: Date.parse('2028-12-31T00:00:00Z') }),
        (zone, layerZone, every, at, from, to, layered, t) => {
          const r: Rotation = {
            ...rotation(zone, at, ['a', 'b', 'c', 'd']),
            every,
            layers: layered
              ? [
                  {
                    name: 'l',
                    members: ['x', 'y'],
                    zone: layerZone,
                    every: 'day',
                    at: from,
                    startDay: Date.UTC(2026, 0, 5) / DAY,
                    hours: { days: [0, 1, 2, 3, 4], from, to },
                  },
                ]
              : [],
            overrides: [{ login: 'z', from: t - 3 * HOUR, to: t - HOUR, role: 'primary', reason: null }],
          };
          const s = shiftAt(r, t);
          expect(s.starts).toBeLessThanOrEqual(t);
          expect(t).toBeLessThan(s.ends);
          const key = (c: ReturnType<typeof crewAt>) => [c.primary, c.secondary, c.layer, c.index];
          expect(key(crewAt(r, s.starts))).toEqual(key(crewAt(r, t)));
          expect(key(crewAt(r, s.ends - 1))).toEqual(key(crewAt(r, t)));
          expect(crewAt(r, s.ends).primary).toBe(s.next.primary);
          if (!layered && s.override === null && s.starts !== t - HOUR) {
            // A base handoff: at `at` on the wall clock, or just after the gap when DST skipped it.
            const w = wallClock(s.starts, zone).minutes;
            if (w !== at) expect(offsetMs(zone, s.starts - 1)).toBeLessThan(offsetMs(zone, s.starts));
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

const TWO_ZONE = readFileSync(new URL('../fixtures/oncall/two-zone-rotation.yml', import.meta.url), 'utf8');

describe('a four-person, two-zone rotation (New York and Berlin, follow the sun)', () => {
  const { policy, warnings } = loadPolicy(TWO_ZONE, 'two-zone-rotation.yml');
  const o = policy.oncall;

  // The expected page, from fixed 2026 offsets written out by hand (no Intl, no zone.ts).
  const offNY = (t: number) =>
    t < Date.parse('2026-03-08T07:00:00Z')
      ? -5 * HOUR
      : t < Date.parse('2026-11-01T06:00:00Z')
        ? -4 * HOUR
        : -5 * HOUR;
  const offBerlin = (t: number) =>
    t < Date.parse('2026-03-29T01:00:00Z') ? HOUR : t < Date.parse('2026-10-25T01:00:00Z') ? 2 * HOUR : HOUR;
  function expected(t: number): { primary: string; secondary: string } {
    const berlin = t + offBerlin(t);
    const hour = Math.floor(berlin / HOUR) % 24;
    if (hour >= 8 && hour < 18) {
      const d = Math.floor((berlin - Date.UTC(2026, 2, 1, 8)) / DAY);
      return d % 2 === 0 ? { primary: 'carol', secondary: 'dave' } : { primary: 'dave', secondary: 'carol' };
    }
    const d = Math.floor((t + offNY(t) - Date.UTC(2026, 2, 1, 9)) / DAY);
    return d % 2 === 0 ? { primary: 'alice', secondary: 'bob' } : { primary: 'bob', secondary: 'alice' };
  }

  it.each([
    ['New York spring forward', '2026-03-08T07:00:00Z'],
    ['Berlin spring forward', '2026-03-29T01:00:00Z'],
    ['Berlin fall back', '2026-10-25T01:00:00Z'],
    ['New York fall back', '2026-11-01T06:00:00Z'],
  ])(
    'pages the right person at every hour (and holds the right one every minute) for two days around the %s night',
    (_, night) => {
      const t0 = Date.parse(night);
      const r = rotationOf(o)!;
      const wrong: string[] = [];
      for (let t = t0 - DAY; t <= t0 + DAY; t += MIN) {
        const want = expected(t);
        const got = crewAt(r, t);
        if (got.primary !== want.primary || got.secondary !== want.secondary)
          wrong.push(
            `${new Date(t).toISOString()}: ${got.primary}/${got.secondary}, expected ${want.primary}/${want.secondary}`,
          );
      }
      expect(wrong).toEqual([]);
      for (let t = t0 - DAY; t <= t0 + DAY; t += HOUR) {
        const want = expected(t);
        const path = escalationPath(o, t);
        expect([path[0]!.login, path[1]!.login], new Date(t).toISOString()).toEqual([
          want.primary,
          want.secondary,
        ]);
        expect(path[2]!.login).toBe('sre-lead');
        const sev1 = routeSeverity(o, 'sev1', t, t);
        expect(sev1.page).toBe(true);
      }
    },
  );

  it('business hours and ack windows follow the responder: 15:00 in New York is the New York member’s day', () => {
    // Tue 2026-11-03 15:00 New York = 21:00 Berlin: the Berlin layer is off, a New York member holds.
    const t = Date.parse('2026-11-03T20:00:00Z');
    const primary = escalationPath(o, t)[0]!;
    expect(['alice', 'bob']).toContain(primary.login);
    expect(inBusinessHours(o, t)).toBe(true);
    expect(ackWindow(o, t)).toMatchObject({ ms: 5 * MIN, business: true });
    expect(primary.wait).toBe(5 * MIN);
    expect(routeSeverity(o, 'sev2', t, t)).toMatchObject({ page: true });
    // The same instant is 21:00 for carol: her own clock says overnight.
    expect(ackWindow(o, t, 'carol')).toMatchObject({ ms: 15 * MIN, business: false });
    // 10:00 Berlin (04:00 New York): carol or dave holds, inside their day.
    const morning = Date.parse('2026-11-03T09:00:00Z');
    expect(['carol', 'dave']).toContain(escalationPath(o, morning)[0]!.login);
    expect(ackWindow(o, morning).business).toBe(true);
  });

  it('a sev2 raised in nobody’s day pages when the next primary’s day begins', () => {
    // Sat 2026-11-07 12:00 Berlin: the layer holds but it is the weekend for everyone; Monday 08:00
    // Berlin the layer takes the pager, and 09:00 Berlin is carol's or dave's business day.
    const t = Date.parse('2026-11-07T11:00:00Z');
    const r = routeSeverity(o, 'sev2', t, t);
    expect(r.page).toBe(false);
    expect(r.page_at).toBe(Date.parse('2026-11-09T08:00:00Z'));
  });

  it('lint names the cost of two zones six hours apart: the New York pair hands over at 02:00 their time', () => {
    expect(warnings.map((w) => `${w.line} ${w.path}: ${w.message}`)).toEqual([
      "23 oncall.layers[0].hours: a handoff in alice's night (22:00–07:00 on their clock, America/New_York): alice hands over to dave at Mon 2026-03-02 02:00 America/New_York, and 182 more in the first year; hand over inside both people's day",
      "23 oncall.layers[0].hours: a handoff in bob's night (22:00–07:00 on their clock, America/New_York): bob hands over to carol at Tue 2026-03-03 02:00 America/New_York, and 182 more in the first year; hand over inside both people's day",
    ]);
  });
});

describe('layers, overrides and swaps', () => {
  const base = `
  members: [alice, bob, carol]
  timezone: Europe/Berlin
  handoff: { every: week, day: mon, at: "09:00" }
  start: 2026-11-02`;
  const at = (iso: string) => Date.parse(iso);

  it('an override covers its hours, in the rotation’s zone, and hands back at its end', () => {
    const o = oncallPolicy(`${base}
  overrides:
    - { login: dave, from: "2026-11-04T18:00", to: "2026-11-05T08:00", reason: alice at a wedding }
    - { login: erin, from: "2026-11-04T20:00Z", to: "2026-11-04T21:00Z", role: secondary }`).oncall;
    const r = rotationOf(o)!;
    expect(crewAt(r, at('2026-11-04T16:59:00Z')).primary).toBe('alice');
    const s = shiftAt(r, at('2026-11-04T17:00:00Z'));
    expect(s).toMatchObject({
      primary: 'dave',
      secondary: 'bob',
      override: 0,
      starts: at('2026-11-04T17:00:00Z'),
    });
    expect(crewAt(r, at('2026-11-04T20:30:00Z'))).toMatchObject({ primary: 'dave', secondary: 'erin' });
    expect(shiftAt(r, at('2026-11-05T06:00:00Z'))).toMatchObject({
      ends: at('2026-11-05T07:00:00Z'),
      next: { primary: 'alice' },
    });
  });

  it('a swap exchanges two shifts’ primaries, and the backup follows the new order', () => {
    const o = oncallPolicy(`${base}
  swaps: [{ shifts: [2026-11-09, 2026-11-16] }]`).oncall;
    const r = rotationOf(o)!;
    expect(crewAt(r, at('2026-11-03T12:00:00Z'))).toMatchObject({ primary: 'alice', secondary: 'carol' });
    expect(crewAt(r, at('2026-11-10T12:00:00Z'))).toMatchObject({ primary: 'carol', secondary: 'bob' });
    expect(crewAt(r, at('2026-11-17T12:00:00Z'))).toMatchObject({ primary: 'bob', secondary: 'alice' });
    expect(crewAt(r, at('2026-11-24T12:00:00Z'))).toMatchObject({ primary: 'alice' });
  });

  it('a weekend layer takes the pager on its days only', () => {
    const o = oncallPolicy(`${base}
  layers:
    - name: weekend
      members: [dave, erin]
      handoff: { every: week, day: sat, at: "09:00" }
      start: 2026-11-07
      hours: { days: [sat, sun], from: "09:00", to: "09:00" }`).oncall;
    const r = rotationOf(o)!;
    expect(crewAt(r, at('2026-11-07T07:59:00Z')).primary).toBe('alice');
    expect(shiftAt(r, at('2026-11-07T12:00:00Z'))).toMatchObject({
      primary: 'dave',
      secondary: 'erin',
      layer: 'weekend',
      starts: at('2026-11-07T08:00:00Z'),
      ends: at('2026-11-09T08:00:00Z'),
      next: { primary: 'bob' },
    });
  });

  const problems = (oncall: string) => oncallProblems(oncall).map((p) => `${p.path}: ${p.message}`);

  it.each([
    [
      `\n  members: [alice, Alice]\n  handoff: { every: day }\n  start: 2026-11-02`,
      'oncall.members[1]: Alice is already listed at members[0]',
    ],
    [
      `${base}\n  layers: [{ name: l, members: [dave, DAVE], handoff: { every: day }, start: 2026-11-02 }]`,
      'oncall.layers[0].members[1]: DAVE is already listed',
    ],
    [
      `${base}\n  swaps: [{ shifts: [2026-11-09, 2026-11-10] }]`,
      'oncall.swaps[0].shifts[1]: 2026-11-10 is not the first day of a shift',
    ],
    [
      `${base}\n  swaps: [{ shifts: [2026-11-09, 2026-11-16], layer: nope }]`,
      'oncall.swaps[0].layer: no layer named "nope"',
    ],
    [
      `${base}\n  overrides: [{ login: dave, from: "2026-11-05T08:00", to: "2026-11-04T08:00" }]`,
      'oncall.overrides[0].to: an override must end after it starts',
    ],
    [
      `${base}\n  overrides: [{ login: dave, from: "tomorrow", to: "2026-11-04T08:00" }]`,
      'expected a date and time such as 2026-12-24T18:00',
    ],
    [
      `\n  members: [{ login: alice, timezone: Mars/Olympus }, bob]\n  handoff: { every: day }\n  start: 2026-11-02`,
      'oncall.members[0]',
    ],
    [
      `${base}\n  layers: [{ name: l, members: [{ login: alice, timezone: Asia/Tokyo }], handoff: { every: day }, start: 2026-11-02 }, { name: l, members: [{ login: bob, timezone: Europe/Paris }], handoff: { every: day }, start: 2026-11-02 }]`,
      'oncall.layers[1].name: layer name "l" is already used',
    ],
    [
      `\n  members: [{ login: alice, timezone: Asia/Tokyo }, bob]\n  handoff: { every: day }\n  start: 2026-11-02\n  layers: [{ name: l, members: [{ login: Alice, timezone: Europe/Paris }], handoff: { every: day }, start: 2026-11-02 }]`,
      'oncall.layers[0].members[0]: Alice has a different timezone or working_hours at members.0: give them once',
    ],
  ])('refuses %j', (oncall, message) => {
    expect(problems(oncall).join('\n')).toContain(message);
  });

  it('keeps the existing shapes: plain logins, one zone, no layers', () => {
    const o = oncallPolicy(base).oncall;
    expect(o.members).toEqual(['alice', 'bob', 'carol']);
    expect(shiftAt(rotationOf(o)!, at('2026-11-10T12:00:00Z'))).toMatchObject({
      primary: 'bob',
      layer: 'base',
      override: null,
    });
  });
});

describe('lint warnings', () => {
  it('names a handoff in the DST gap or the repeated hour, and when it really happens', () => {
    const o = oncallPolicy(`
  members: [alice, bob]
  timezone: Europe/Berlin
  handoff: { every: day, at: "02:30" }
  start: 2026-03-20`).oncall;
    const w = oncallWarnings(o).map((x) => `${x.path.join('.')}: ${x.message}`);
    expect(w).toContain(
      'handoff.at: handoff at 02:30 Europe/Berlin does not exist on 2026-03-29 (the clocks jump over it): that handoff happens at the first instant after the gap, Sun 2026-03-29 03:00 Europe/Berlin; move it out of the night of a DST change',
    );
    expect(w).toContain(
      'handoff.at: handoff at 02:30 Europe/Berlin happens twice on 2026-10-25 (the clocks go back): the handoff is at its first occurrence; move it out of the night of a DST change',
    );
  });

  it('warns about a weekly handoff in a remote member’s night, on their clock, through loadPolicy', () => {
    const text = `version: 1
slos: [{ name: s, sli: { kind: success }, target: 99%, window: 7d, scope: all }]
oncall:
  members: [alice, { login: dave, timezone: America/Los_Angeles }]
  timezone: Europe/Berlin
  handoff: { every: week, day: mon, at: "09:00" }
  start: 2026-11-02`;
    const { warnings } = loadPolicy(text, 'p.yml');
    expect(warnings.map((w) => `${w.line} ${w.path}: ${w.message}`)).toEqual([
      "6 oncall.handoff.at: a handoff in dave's night (22:00–07:00 on their clock, America/Los_Angeles): dave takes over from alice at Mon 2026-11-09 00:00 America/Los_Angeles, and 51 more in the first year; hand over inside both people's day",
    ]);
  });
});
