import { loginOf, type OncallPolicy, WEEKDAYS } from './schema.ts';
import { dayNumber, instantOf, resolveWallTime } from './zone.ts';

// Who holds the pager at an instant: the base rotation, layers over it (later ones first where
// they are active), swaps of two shifts, and one-off overrides on top. Every handoff and every
// layer window is an instant computed from the wall clock of its zone (zone.ts: a skipped time is
// the first instant after the gap, a repeated one its first occurrence), so the handoffs of a layer
// are strictly increasing instants and exactly one primary holds at each instant. Pure: the time
// is an argument.

export interface LayerPlan {
  name: string;
  members: string[];
  zone: string;
  every: 'day' | 'week';
  /** Handoff time, minutes after local midnight. */
  at: number;
  /** Days since 1970-01-01 of the first shift. */
  startDay: number;
  /** Active only inside these hours (weekday 0 = Monday); null: always. */
  hours: { days: number[]; from: number; to: number } | null;
}

interface OverridePlan {
  login: string;
  from: number;
  to: number;
  role: 'primary' | 'secondary';
  reason: string | null;
}

export interface Rotation {
  /** The base rotation's members, in the order they take the primary shift. */
  members: string[];
  zone: string;
  every: 'day' | 'week';
  at: number;
  startDay: number;
  primaryOnly: boolean;
  /** Layers over the base, lowest precedence first. */
  layers?: LayerPlan[];
  overrides?: OverridePlan[];
  /** Shift indexes that exchange primaries, per layer (0 is the base, i + 1 is layers[i]). */
  swaps?: Array<{ layer: number; a: number; b: number }>;
}

export interface Crew {
  primary: string;
  /** Null in a primary-only rotation. */
  secondary: string | null;
  /** The layer whose shift this is: `base` or a layer's name. */
  layer: string;
  /** That layer's shift index since its start (negative before it). */
  index: number;
  /** The override holding the primary role, if one does (index into the policy's list). */
  override: number | null;
}

export interface Shift {
  /** The holding layer's shift index since its start (negative before it). */
  index: number;
  primary: string;
  secondary: string | null;
  layer: string;
  override: number | null;
  /** When this crew took over and when it hands over (the next handoff, layer window or override). */
  starts: number;
  ends: number;
  /** Who takes over at `ends`. */
  next: { primary: string; secondary: string | null };
}

const DAY = 86_400_000;
const mod = (a: number, n: number) => ((a % n) + n) % n;
const lengthOf = (l: { every: 'day' | 'week' }) => (l.every === 'day' ? 1 : 7);
const weekdayOf = (day: number) => mod(day + 3, 7);

function planOf(r: Rotation, i: number): LayerPlan {
  if (i === 0)
    return {
      name: 'base',
      members: r.members,
      zone: r.zone,
      every: r.every,
      at: r.at,
      startDay: r.startDay,
      hours: null,
    };
  return r.layers![i - 1]!;
}

/** The base rotation and its layers, lowest precedence first. */
export function layerPlans(r: Rotation): LayerPlan[] {
  return [planOf(r, 0), ...(r.layers ?? [])];
}

/** The instant shift `k` of a layer starts. */
function handoffInstant(l: LayerPlan, k: number): number {
  return instantOf(l.startDay + k * lengthOf(l), l.at, l.zone);
}

/** Which shift of a layer holds at `t`: the last handoff at or before it. */
function layerShiftIndex(l: LayerPlan, t: number): number {
  const len = lengthOf(l);
  // The UTC day is within a day of the zone's: one step either way corrects the estimate.
  let k = Math.floor((t / DAY - l.startDay) / len);
  while (handoffInstant(l, k) > t) k--;
  while (handoffInstant(l, k + 1) <= t) k++;
  return k;
}

/** The window of a layer's hours that opens on `day`, as instants (an overnight window ends the next day). */
function windowOn(l: LayerPlan, day: number): [number, number] | null {
  const h = l.hours;
  if (!h) return null;
  if (!h.days.includes(weekdayOf(day))) return null;
  const overnight = h.to <= h.from;
  return [instantOf(day, h.from, l.zone), instantOf(day + (overnight ? 1 : 0), h.to, l.zone)];
}

function layerActive(l: LayerPlan, t: number): boolean {
  if (!l.hours) return true;
  const day = Math.floor(t / DAY);
  for (let d = day - 2; d <= day + 1; d++) {
    const w = windowOn(l, d);
    if (w && w[0] <= t && t < w[1]) return true;
  }
  return false;
}

function swapped(r: Rotation, layer: number, k: number): number {
  for (const s of r.swaps ?? []) {
    if (s.layer !== layer) continue;
    if (s.a === k) return s.b;
    if (s.b === k) return s.a;
  }
  return k;
}

function primaryOf(r: Rotation, layer: number, k: number): string {
  const l = planOf(r, layer);
  return l.members[mod(swapped(r, layer, k), l.members.length)]!;
}

/** The next one up backs up the primary: they are about to own the pager anyway. */
function secondaryOf(r: Rotation, layer: number, k: number, primary: string, t: number): string | null {
  if (r.primaryOnly) return null;
  const l = planOf(r, layer);
  for (let j = 1; j <= l.members.length + 1; j++) {
    const p = primaryOf(r, layer, k + j);
    if (p !== primary) return p;
  }
  if (layer === 0) return null;
  // A one-person layer: the base rotation backs it up.
  const base = primaryOf(r, 0, layerShiftIndex(planOf(r, 0), t));
  if (base !== primary) return base;
  return secondaryOf(r, 0, layerShiftIndex(planOf(r, 0), t), primary, t);
}

/** Who holds the pager at `t`. */
export function crewAt(r: Rotation, t: number): Crew {
  let layer = 0;
  for (let i = r.layers?.length ?? 0; i >= 1; i--) {
    if (layerActive(planOf(r, i), t)) {
      layer = i;
      break;
    }
  }
  const l = planOf(r, layer);
  const index = layerShiftIndex(l, t);
  let primary = primaryOf(r, layer, index);
  let secondary = secondaryOf(r, layer, index, primary, t);
  let override: number | null = null;
  let covered = false;
  (r.overrides ?? []).forEach((o, i) => {
    if (t < o.from || t >= o.to) return;
    if (o.role === 'primary') {
      primary = o.login;
      override = i;
    } else {
      secondary = o.login;
      covered = true;
    }
  });
  if (secondary === primary && !covered) secondary = secondaryOf(r, layer, index + 1, primary, t);
  else if (secondary === primary) secondary = null;
  return { primary, secondary, layer: l.name, index, override };
}

const keyOf = (c: Crew) => `${c.layer}|${c.index}|${c.primary}|${c.secondary}|${c.override}`;

/** Every instant in [from, to] at which the crew may change. */
export function changePoints(r: Rotation, from: number, to: number): number[] {
  const out: number[] = [];
  const layers = 1 + (r.layers?.length ?? 0);
  for (let i = 0; i < layers; i++) {
    const l = planOf(r, i);
    for (let k = layerShiftIndex(l, from); ; k++) {
      const h = handoffInstant(l, k);
      if (h > to) break;
      if (h >= from) out.push(h);
    }
    if (l.hours)
      for (let d = Math.floor(from / DAY) - 2; d <= Math.floor(to / DAY) + 1; d++) {
        const w = windowOn(l, d);
        if (w) out.push(...w.filter((x) => x >= from && x <= to));
      }
  }
  for (const o of r.overrides ?? []) out.push(...[o.from, o.to].filter((x) => x >= from && x <= to));
  return [...new Set(out)].sort((a, b) => a - b);
}

// Every layer hands over at least weekly, so the crew changes within this reach of any instant.
const REACH = 8 * DAY;

export function shiftAt(r: Rotation, t: number): Shift {
  const crew = crewAt(r, t);
  const key = keyOf(crew);
  const points = changePoints(r, t - REACH, t + REACH);
  let ends = t + REACH;
  let next = crew;
  for (const c of points) {
    if (c <= t) continue;
    const there = crewAt(r, c);
    if (keyOf(there) !== key) {
      ends = c;
      next = there;
      break;
    }
  }
  let starts = t - REACH;
  for (let i = points.length - 1; i >= 0; i--) {
    const c = points[i]!;
    if (c > t) continue;
    if (keyOf(crewAt(r, c - 1)) !== key) {
      starts = c;
      break;
    }
  }
  return {
    index: crew.index,
    primary: crew.primary,
    secondary: crew.secondary,
    layer: crew.layer,
    override: crew.override,
    starts,
    ends,
    next: { primary: next.primary, secondary: next.secondary },
  };
}

/** `2026-12-24T18:00` on the zone's wall clock, or an explicit `Z`/offset. */
function scheduleInstant(s: string, zone: string): number {
  if (/(?:Z|[+-]\d{2}:\d{2})$/.test(s)) return Date.parse(s);
  const [date, time] = s.split('T') as [string, string];
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  return resolveWallTime(dayNumber({ year: y, month: m, day: d }), hh * 60 + mm, zone).at;
}

const dayOfDate = (s: string) => Date.parse(`${s}T00:00:00Z`) / DAY;

/** The rotation a policy describes, or null when it lists no members (the pre-rotation form). */
export function rotationOf(o: OncallPolicy): Rotation | null {
  if (!o.members || !o.handoff || !o.start) return null;
  const layers: LayerPlan[] = (o.layers ?? []).map((l) => ({
    name: l.name,
    members: l.members.map(loginOf),
    zone: l.timezone ?? o.timezone,
    every: l.handoff.every,
    at: l.handoff.at,
    startDay: dayOfDate(l.start),
    hours: l.hours
      ? {
          days: l.hours.days.map((d) => WEEKDAYS.indexOf(d)),
          from: l.hours.from,
          to: l.hours.to,
        }
      : null,
  }));
  const r: Rotation = {
    members: o.members.map(loginOf),
    zone: o.timezone,
    every: o.handoff.every,
    at: o.handoff.at,
    startDay: dayOfDate(o.start),
    primaryOnly: o.mode === 'primary-only',
    layers,
    overrides: (o.overrides ?? []).map((v) => ({
      login: v.login,
      from: scheduleInstant(v.from, o.timezone),
      to: scheduleInstant(v.to, o.timezone),
      role: v.role,
      reason: v.reason ?? null,
    })),
  };
  r.swaps = (o.swaps ?? []).map((s) => {
    const layer = s.layer === undefined ? 0 : 1 + layers.findIndex((l) => l.name === s.layer);
    const l = planOf(r, layer);
    const [a, b] = s.shifts.map((d) => (dayOfDate(d) - l.startDay) / lengthOf(l)) as [number, number];
    return { layer, a, b };
  });
  return r;
}

/** Everyone the schedule can page: base members, then layer members, then override cover. */
export function everyone(r: Rotation): string[] {
  const all = [
    ...r.members,
    ...(r.layers ?? []).flatMap((l) => l.members),
    ...(r.overrides ?? []).map((o) => o.login),
  ];
  return [...new Set(all)];
}
