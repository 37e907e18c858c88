import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ackWindow,
  endOfBusinessDay,
  escalationPath,
  inBusinessHours,
  rotationOf,
  shiftAt,
} from '../../src/policy/oncall/rotation.ts';
import { wallClock } from '../../src/policy/oncall/zone.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { HOUR, MIN, MONDAY_0900, oncallPolicy, oncallProblems } from './fixtures.ts';

const policy = oncallPolicy();
const rotation = rotationOf(policy.oncall)!;

describe('rotation math', () => {
  it('hands the weekly shift over on Monday 09:00 Berlin time', () => {
    expect(shiftAt(rotation, MONDAY_0900)).toMatchObject({
      index: 0,
      primary: 'alice',
      secondary: 'bob',
      starts: MONDAY_0900,
      ends: Date.parse('2026-11-09T08:00:00Z'),
      next: { primary: 'bob', secondary: 'carol' },
    });
    expect(shiftAt(rotation, Date.parse('2026-11-09T07:59:00Z')).primary).toBe('alice');
    expect(shiftAt(rotation, Date.parse('2026-11-09T08:00:00Z')).primary).toBe('bob');
    // Third week: carol, backed up by alice (the list wraps).
    expect(shiftAt(rotation, Date.parse('2026-11-20T12:00:00Z'))).toMatchObject({
      primary: 'carol',
      secondary: 'alice',
    });
  });

  it('keeps handing over at 09:00 on the wall clock across daylight-saving changes', () => {
    const daily = rotationOf(
      oncallPolicy(`
  members: [alice, bob]
  timezone: Europe/Berlin
  handoff: { every: day, at: "09:00" }
  start: 2026-03-20`).oncall,
    )!;
    // 2026-03-29 Berlin moves from UTC+1 to UTC+2: 09:00 is 08:00Z the day before and 07:00Z after.
    expect(shiftAt(daily, Date.parse('2026-03-28T12:00:00Z')).starts).toBe(
      Date.parse('2026-03-28T08:00:00Z'),
    );
    expect(shiftAt(daily, Date.parse('2026-03-29T12:00:00Z')).starts).toBe(
      Date.parse('2026-03-29T07:00:00Z'),
    );
    expect(shiftAt(daily, Date.parse('2026-03-29T06:59:00Z')).index).toBe(8);
    expect(shiftAt(daily, Date.parse('2026-03-29T07:00:00Z')).index).toBe(9);
  });

  it('holds for any instant and zone: the shift contains it, starts at the handoff time, and the next one follows', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'UTC'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.constantFrom('day' as const, 'week' as const),
        fc.integer({ min: 0, max: 23 * 60 + 59 }).filter((m) => m % 15 === 0 && (m < 120 || m > 180)),
        fc.integer({ min: Date.parse('2026-01-05T00:00:00Z'), max: Date.parse('2028-12-31T00:00:00Z') }),
        (zone, every, at, t) => {
          const r = {
            members: ['a', 'b', 'c'],
            zone,
            every,
            at,
            startDay: Date.parse('2026-01-05') / 86_400_000,
            primaryOnly: false,
          };
          const s = shiftAt(r, t);
          expect(s.starts).toBeLessThanOrEqual(t);
          expect(t).toBeLessThan(s.ends);
          expect(wallClock(s.starts, zone).minutes).toBe(at);
          expect(shiftAt(r, s.ends).index).toBe(s.index + 1);
          expect(shiftAt(r, s.ends).primary).toBe(s.next.primary);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a primary-only rotation has no secondary and says so in the path', () => {
    const solo = oncallPolicy(`
  members: [alice]
  timezone: UTC
  handoff: { every: week, at: "09:00" }
  start: 2026-11-02
  mode: primary-only
  escalation: [{ to: primary }, { to: sre-lead, wait: 20m }]`).oncall;
    const s = shiftAt(rotationOf(solo)!, MONDAY_0900 + HOUR);
    expect(s).toMatchObject({ primary: 'alice', secondary: null });
    expect(escalationPath(solo, MONDAY_0900 + 2 * HOUR).map((p) => [p.login, p.role, p.after / MIN])).toEqual(
      [
        ['alice', 'primary', 0],
        ['sre-lead', 'named', 5],
      ],
    );
  });
});

describe('business hours, ack windows, escalation path', () => {
  it('uses the business-hours ack window by day and the overnight one at night, in the zone', () => {
    expect(inBusinessHours(policy.oncall, MONDAY_0900)).toBe(true);
    expect(ackWindow(policy.oncall, MONDAY_0900 + 2 * HOUR)).toMatchObject({ ms: 5 * MIN, business: true });
    // 17:00 Berlin is 16:00Z in November.
    expect(ackWindow(policy.oncall, Date.parse('2026-11-02T16:00:00Z'))).toMatchObject({
      ms: 15 * MIN,
      business: false,
    });
    expect(inBusinessHours(policy.oncall, Date.parse('2026-11-07T10:00:00Z'))).toBe(false); // Saturday
  });

  it('ends the business day at 17:00, or the next business day’s when raised outside it', () => {
    expect(endOfBusinessDay(policy.oncall, MONDAY_0900 + HOUR)).toBe(Date.parse('2026-11-02T16:00:00Z'));
    // Friday 20:00 Berlin → Monday 17:00.
    expect(endOfBusinessDay(policy.oncall, Date.parse('2026-11-06T19:00:00Z'))).toBe(
      Date.parse('2026-11-09T16:00:00Z'),
    );
  });

  it('walks primary → secondary → lead → director with each step’s wait', () => {
    const path = escalationPath(policy.oncall, MONDAY_0900 + HOUR);
    expect(path.map((p) => [p.login, p.role, p.after / MIN, p.wait / MIN])).toEqual([
      ['alice', 'primary', 0, 5],
      ['bob', 'secondary', 5, 10],
      ['sre-lead', 'named', 15, 15],
      ['director', 'named', 30, 5],
    ]);
    // Overnight the primary has 15 minutes.
    expect(escalationPath(policy.oncall, Date.parse('2026-11-02T23:00:00Z'))[1]!.after).toBe(15 * MIN);
  });

  it('keeps the pre-rotation form (users and teams) valid, with no rotation', () => {
    const legacy = oncallPolicy(`\n  users: [oncall-sre]\n  teams: [sre]`).oncall;
    expect(rotationOf(legacy)).toBeNull();
    expect(legacy).toMatchObject({ users: ['oncall-sre'], teams: ['sre'] });
    expect(escalationPath(legacy, MONDAY_0900)).toEqual([]);
  });
});

describe('lint of the on-call section', () => {
  const problems = (oncall: string) => oncallProblems(oncall).map((p) => `${p.line} ${p.path}: ${p.message}`);

  it.each([
    [
      '\n  members: [alice]\n  handoff: { every: week, at: "09:00" }\n  start: 2026-11-02',
      'oncall.members: one member cannot be primary and secondary: say `mode: primary-only`',
    ],
    [
      '\n  members: [alice, bob]\n  timezone: Berlin\n  handoff: { every: day }\n  start: 2026-11-02',
      'oncall.timezone: expected an IANA time zone',
    ],
    [
      '\n  members: [alice, bob]\n  handoff: { every: week, day: tue }\n  start: 2026-11-02',
      'oncall.handoff.day: start 2026-11-02 is a mon, but the weekly handoff is on tue',
    ],
    [
      '\n  members: [alice]\n  mode: primary-only\n  handoff: { every: day }\n  start: 2026-11-02\n  escalation: [{ to: secondary }]',
      'oncall.escalation[0].to: a primary-only rotation has no secondary',
    ],
    [
      '\n  members: [alice, bob]\n  handoff: { every: day }',
      'oncall: a rotation needs `start`: the date alice took the first shift',
    ],
    ['\n  handoff: { every: day }', 'oncall.handoff: `handoff` needs a rotation: add `members`'],
    [
      '\n  members: [alice, bob]\n  handoff: { every: day, at: "9am" }\n  start: 2026-11-02',
      'expected a 24-hour time of day',
    ],
  ])('refuses %j', (oncall, message) => {
    expect(problems(oncall).join('\n')).toContain(message);
  });

  it('locates the problem on its line', () => {
    expect(
      problems('\n  members: [alice, bob]\n  handoff: { every: week, day: tue }\n  start: 2026-11-02')[0],
    ).toMatch(/^7 oncall\.handoff\.day/);
  });

  it('accepts a runbook given as a repository path', () => {
    const text = `version: 1
slos: [{ name: s, sli: { kind: success }, target: 99%, window: 7d, scope: all }]
alerts: [{ name: fast-burn, severity: sev1, burn_rate: 14.4, long: 1h, short: 5m, runbook: docs/runbooks/fast-burn.md, drill_every: 30d }]`;
    const p = loadPolicy(text, 'p.yml').policy;
    expect(p.alerts[0]).toMatchObject({ runbook: 'docs/runbooks/fast-burn.md' });
    expect(p.alerts[0]!.drill_every!.ms).toBe(30 * 86_400_000);
  });
});
