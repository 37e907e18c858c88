import { guardSpans, judgeCounts, ONSET_BLOCK_MIN } from '../../src/policy/canary/judge.ts';
import type { Task } from '../support/tasks.ts';

// The auto-revert arithmetic done the slow, obvious way (a scan of every task per range), to check
// the bot's tick-by-tick verdicts against: excess bad tasks since the deploy, beyond what the
// hour before's bad ratio predicts, over the rolling window's budget.

interface OracleOptions {
  target: number;
  windowMs: number;
  baselineMs: number;
  withinMs: number;
  minEvents: number;
}

const TEST_POLICY: OracleOptions = {
  target: 0.99,
  windowMs: 7 * 24 * 3_600_000,
  baselineMs: 3_600_000,
  withinMs: 3_600_000,
  minEvents: 50,
};

function count(tasks: readonly Task[], from: number, to: number) {
  let events = 0;
  let bad = 0;
  for (const t of tasks) {
    const ts = typeof t.time === 'number' ? t.time : Date.parse(t.time);
    if (ts > from && ts <= to) {
      events++;
      if (!t.ok) bad++;
    }
  }
  return { events, bad };
}

export function attributable(tasks: readonly Task[], deployedAt: number, at: number, o = TEST_POLICY) {
  const post = count(tasks, deployedAt, Math.min(at, deployedAt + o.withinMs));
  const base = count(tasks, deployedAt - o.baselineMs, deployedAt);
  const win = count(tasks, at - o.windowMs, at);
  const ratio = base.events > 0 ? base.bad / base.events : 0;
  const excess = Math.max(0, post.bad - ratio * post.events);
  return { consumed: excess / ((1 - o.target) * win.events), post, ratio };
}

/**
 * The first whole minute after the deploy at which the judge reverts, on counts taken the slow
 * way; null when it never does. The statistics are the pure judge's (tested in test/policy).
 */
export function firstBreachMinute(
  tasks: readonly Task[],
  deployedAt: number,
  o = TEST_POLICY,
): number | null {
  for (let m = 1; m * 60_000 <= o.withinMs; m++) {
    const at = deployedAt + m * 60_000;
    const post = count(tasks, deployedAt, Math.min(at, deployedAt + o.withinMs));
    const base = count(tasks, deployedAt - o.baselineMs, deployedAt);
    const recent = guardSpans(15).map((m) => count(tasks, deployedAt - m * 60_000, deployedAt));
    const block = ONSET_BLOCK_MIN * 60_000;
    const series = Array.from({ length: Math.ceil(m / ONSET_BLOCK_MIN) }, (_, k) =>
      count(tasks, deployedAt + k * block, Math.min(at, deployedAt + (k + 1) * block)),
    );
    const win = count(tasks, at - o.windowMs, at);
    const verdict = judgeCounts({
      budgetRatio: 1 - o.target,
      post: { n: post.events, x: post.bad },
      baseline: { n: base.events, x: base.bad },
      recent: recent.map((r) => ({ n: r.events, x: r.bad })),
      postSeries: series.map((r) => ({ n: r.events, x: r.bad })),
      windowBudget: (1 - o.target) * win.events,
      projectedTasks: null,
      confidence: 0.99,
      burnRate: 14.4,
      consumed: 0.2,
      minEvents: o.minEvents,
      final: false,
    });
    if (verdict.status === 'revert') return m;
  }
  return null;
}
