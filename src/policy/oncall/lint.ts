import { clockOf } from './rotation.ts';
import { changePoints, crewAt, type LayerPlan, layerPlans, rotationOf } from './schedule.ts';
import type { OncallPolicy } from './schema.ts';
import { dateOfDay, formatWall, resolveWallTime, wallClock } from './zone.ts';

// What lint says about a schedule that loads but will hurt: a handoff at a wall-clock time that a
// DST change skips or repeats (it still happens once, but not when the team thinks), and a handoff
// in someone's night. Pure: it looks at the first year of the rotation, which holds every DST
// change of every zone once.

export interface OncallWarning {
  /** Key path under `oncall`. */
  path: Array<string | number>;
  message: string;
}

/** Local hours counted as night: a handoff then wakes someone, or waits for them to wake. */
const NIGHT = { from: 22 * 60, to: 7 * 60 } as const;
const DAY = 86_400_000;
const YEAR_DAYS = 366;

const hhmm = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
const isoDay = (day: number) => {
  const d = dateOfDay(day);
  return `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
};

function dstWarnings(l: LayerPlan, path: Array<string | number>): OncallWarning[] {
  const len = l.every === 'day' ? 1 : 7;
  const skipped: number[] = [];
  const repeated: number[] = [];
  for (let day = l.startDay; day < l.startDay + YEAR_DAYS; day += len) {
    const r = resolveWallTime(day, l.at, l.zone);
    if (r.kind === 'skipped') skipped.push(day);
    if (r.kind === 'repeated') repeated.push(day);
  }
  const out: OncallWarning[] = [];
  if (skipped.length > 0) {
    const first = resolveWallTime(skipped[0]!, l.at, l.zone).at;
    out.push({
      path,
      message: `handoff at ${hhmm(l.at)} ${l.zone} does not exist on ${skipped.map(isoDay).join(', ')} (the clocks jump over it): that handoff happens at the first instant after the gap, ${formatWall(first, l.zone)}; move it out of the night of a DST change`,
    });
  }
  if (repeated.length > 0)
    out.push({
      path,
      message: `handoff at ${hhmm(l.at)} ${l.zone} happens twice on ${repeated.map(isoDay).join(', ')} (the clocks go back): the handoff is at its first occurrence; move it out of the night of a DST change`,
    });
  return out;
}

const inNight = (minutes: number) => minutes >= NIGHT.from || minutes < NIGHT.to;

export function oncallWarnings(o: OncallPolicy): OncallWarning[] {
  const r = rotationOf(o);
  if (!r) return [];
  const plans = layerPlans(r);
  const pathOf = (i: number, key: 'handoff' | 'hours'): Array<string | number> =>
    i === 0
      ? ['handoff', 'at']
      : key === 'hours'
        ? ['layers', i - 1, 'hours']
        : ['layers', i - 1, 'handoff', 'at'];
  const out = plans.flatMap((l, i) => dstWarnings(l, pathOf(i, 'handoff')));

  // Every change of primary in the first year, judged on the clocks of both people.
  // From the first shift on: before it, nobody was on call to hand over.
  const from = Math.min(...plans.map((l) => resolveWallTime(l.startDay, l.at, l.zone).at));
  const seen = new Map<string, { path: Array<string | number>; example: string; count: number }>();
  for (const t of changePoints(r, from, from + YEAR_DAYS * DAY)) {
    if (t <= from) continue;
    const before = crewAt(r, t - 1);
    const after = crewAt(r, t);
    if (before.primary === after.primary) continue;
    const index = plans.findIndex((l) => l.name === after.layer);
    const path =
      before.layer !== after.layer
        ? pathOf(
            Math.max(
              index,
              plans.findIndex((l) => l.name === before.layer),
            ),
            'hours',
          )
        : pathOf(index, 'handoff');
    for (const [who, other, verb] of [
      [before.primary, after.primary, 'hands over to'],
      [after.primary, before.primary, 'takes over from'],
    ] as const) {
      const zone = clockOf(o, who).zone;
      const local = wallClock(t, zone).minutes;
      if (!inNight(local)) continue;
      const key = `${who}|${path.join('.')}`;
      const hit = seen.get(key);
      if (hit) hit.count++;
      else
        seen.set(key, {
          path,
          example: `${who} ${verb} ${other} at ${formatWall(t, zone)}`,
          count: 1,
        });
    }
  }
  for (const [key, w] of seen) {
    const who = key.split('|')[0]!;
    out.push({
      path: w.path,
      message: `a handoff in ${who}'s night (${hhmm(NIGHT.from)}–${hhmm(NIGHT.to)} on their clock, ${clockOf(o, who).zone}): ${w.example}${w.count > 1 ? `, and ${w.count - 1} more in the first year` : ''}; hand over inside both people's day`,
    });
  }
  return out;
}
