// The task mix as both traffic simulators draw it: kinds that fail, take and cost differently,
// and whose shares drift — research tasks grow or shrink by up to 40% over an hour.

/** Kinds of task: their share of the mix, failure ratio, median latency and cost. */
export const KINDS = [
  { name: 'chat', share: 0.55, fail: 0.006, latencyMs: 2000, costUsd: 0.011 },
  { name: 'tool', share: 0.35, fail: 0.012, latencyMs: 3200, costUsd: 0.018 },
  { name: 'research', share: 0.1, fail: 0.025, latencyMs: 5200, costUsd: 0.03 },
] as const;
export type Kind = (typeof KINDS)[number];

/** A drift of the mix: from `from` to `by` (relative change of the research share) over the hour after minute `at`. */
export interface MixShift {
  at: number;
  from: number;
  by: number;
}

/** A shift at a minute drawn evenly in [startMin, startMin + minutes), of up to ±40%. */
export function drawMixShift(rand: () => number, startMin: number, minutes: number, from = 0): MixShift {
  const at = startMin + Math.floor(rand() * minutes);
  return { at, from, by: 0.4 * (2 * rand() - 1) };
}

/** The research share at minute m under the shift. */
export const researchShare = (s: MixShift, m: number) =>
  KINDS[2].share * (1 + s.from + (s.by - s.from) * Math.min(1, Math.max(0, (m - s.at) / 60)));

/** A task's kind when research tasks are `research` of the mix (the others keep their proportions). */
export function pickKind(rand: () => number, research: number): Kind {
  const u = rand();
  if (u < research) return KINDS[2];
  return u < research + KINDS[1].share * ((1 - research) / 0.9) ? KINDS[1] : KINDS[0];
}
