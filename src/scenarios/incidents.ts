// Provider incidents as both traffic simulators draw them: they ramp up over minutes, reach part
// of the traffic (the tasks the affected provider serves), slow those down and fail some, half of
// the failures as timeouts. Times are in whole minutes since the epoch.

export interface Incident {
  from: number;
  /** Minutes to build up to full strength. */
  ramp: number;
  to: number;
  /** Share of tasks the affected provider serves, and how many of those fail at full strength. */
  reach: number;
  level: number;
}

/** Timeouts answer after this long: over every latency threshold. */
const TIMEOUT_MS = 60_000;

/** An incident starting at minute `from`: 1–8 minutes' ramp, 15–90 minutes long, 30–100% reach, 15–60% failing. */
export const drawIncident = (rand: () => number, from: number): Incident => ({
  from,
  ramp: 1 + Math.floor(rand() * 8),
  to: from + 15 + Math.floor(rand() * 75),
  reach: 0.3 + rand() * 0.7,
  level: 0.15 + rand() * 0.45,
});

/** The incident's strength at minute t, 0–1: it ramps up, and winds down over its last two minutes. */
export const strength = (i: Incident, t: number) => {
  if (t < i.from || t >= i.to) return 0;
  return Math.min(1, (t - i.from + 1) / i.ramp, (i.to - t) / 2);
};

/** One task at minute `m` through the incidents: slowed 1–3x where reached, and failed (or timed out) on some. */
export function throughIncidents(
  rand: () => number,
  incidents: readonly Incident[],
  m: number,
  task: { ok: boolean; latency: number },
): { ok: boolean; latency: number } {
  let { ok, latency } = task;
  for (const i of incidents) {
    const s = strength(i, m);
    if (s === 0 || rand() >= i.reach) continue;
    latency *= 1 + 2 * s;
    if (rand() < i.level * s) {
      ok = false;
      if (rand() < 0.5) latency = TIMEOUT_MS;
    }
  }
  return { ok, latency };
}

/** Incidents starting in [fromMin, toMin): a Poisson process of `perDay` a day. */
export function incidentSchedule(
  rand: () => number,
  fromMin: number,
  toMin: number,
  perDay: number,
): Incident[] {
  const out: Incident[] = [];
  let t = fromMin;
  for (;;) {
    t += (-Math.log(Math.max(rand(), 1e-12)) / perDay) * 1440;
    if (t >= toMin) return out;
    out.push(drawIncident(rand, Math.floor(t)));
  }
}
