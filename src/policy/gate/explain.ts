import { describeApprovers } from '../overrides/overrides.ts';
import type { Policy } from '../spec/schema.ts';
import { humanizeDuration } from '../time/duration.ts';
import type { Reason } from './decision-schema.ts';
import type { RiskFile } from './risk.ts';
import type { SloEvaluation } from './slo-report.ts';

// Sentences for people: every reason names the SLO, the rule and the numbers; every action is
// something the reader can do now.

/**
 * A share as a percentage a person can read: whole percents from 10% up, two significant digits
 * below (2.8%, 0.2%, 0.013%), so a small share never prints as 0%.
 */
export function pct(x: number): string {
  const v = x * 100;
  if (v === 0 || !Number.isFinite(v)) return `${v === 0 ? 0 : v}%`;
  const a = Math.abs(v);
  if (a >= 9.95) return `${Math.round(v)}%`;
  if (a < 0.001) return `${v < 0 ? '>-' : '<'}0.001%`;
  return `${Number(v.toPrecision(2))}%`;
}
export const times = (x: number): string => `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}x`;
const count = (x: number | null): string => (x === null ? '?' : Math.round(x).toLocaleString('en-US'));

export function sloPauseReason(policy: Policy, e: SloEvaluation, at: number): Reason {
  const r = e.report;
  const consumed = r.consumed ?? 0;
  const base = `${r.name} has consumed ${pct(consumed)} of its ${r.window} budget (${count(r.bad)} bad of ${count(r.events)} tasks; ${count(r.budget)} allowed)`;
  const soft = policy.states.soft_pause;
  const hard = policy.states.hard_pause;
  let message: string;
  if (e.rule === 'states.hard_pause.consumed') {
    message = `${base}: at or past the hard-pause line of ${pct(hard.consumed)}`;
  } else if (e.rule === 'states.hard_pause.exhaustion_within') {
    const when = Date.parse(r.projected_exhaustion!);
    message = `${base} and at ${times(e.pace.burn ?? 0)} over ${e.pace.lookback} runs out in ${humanizeDuration(when - at)} (${r.projected_exhaustion}), inside the hard-pause horizon of ${hard.exhaustion_within}`;
  } else if (e.pace.expected !== null) {
    message = `${base} with ${pct(r.elapsed)} of the ${r.window} gone: past the soft-pause line of ${pct(soft.consumed)} and ahead of pace (${pct(e.pace.expected)} expected by now)`;
  } else {
    message = `${base} at ${times(e.pace.burn ?? 0)} pace over ${e.pace.lookback}: past the soft-pause line of ${pct(soft.consumed)} and burning faster than ${times(soft.pace_factor)}`;
  }
  return { code: r.state, rule: e.rule, slo: r.name, message };
}

export function riskReason(files: RiskFile[], policy: Policy): Reason | null {
  const high = files.filter((f) => f.class === 'high');
  if (high.length === 0) {
    return files.length === 0
      ? {
          code: 'risk',
          rule: 'risk.default',
          slo: null,
          message: `no changed files were given: the change is ${policy.risk.default} risk by risk.default`,
        }
      : null;
  }
  const first = high[0]!;
  const rule = first.rule.startsWith('risk.rules[')
    ? policy.risk.rules[Number(first.rule.slice(11, -1))]
    : undefined;
  const why = rule ? ` (${first.rule}: ${rule.paths.join(', ')})` : ` (${first.rule})`;
  const more =
    high.length > 1 ? ` and ${high.length - 1} more high-risk file${high.length > 2 ? 's' : ''}` : '';
  return {
    code: 'high-risk',
    rule: first.rule,
    slo: null,
    message: `${first.path} is high risk${why}${more}`,
  };
}

export function waitAction(policy: Policy, e: SloEvaluation, periodEnd: number | null): string {
  const r = e.report;
  if (periodEnd !== null) {
    return `wait: ${r.name}'s budget refills when the ${r.window} ends (${new Date(periodEnd).toISOString()})${e.report.state === 'soft-pause' ? ', or sooner if the burn falls back within pace' : ''}`;
  }
  if (r.state === 'hard-pause') {
    return `wait: ${r.name}'s budget refills as old failures leave the ${r.window} window; fix or revert what burns it`;
  }
  return `wait: the pause lifts when ${r.name}'s burn over ${e.pace.lookback} falls to ${times(policy.states.soft_pause.pace_factor)} or below, or consumption drops under ${pct(policy.states.soft_pause.consumed)}`;
}

export function splitAction(files: RiskFile[]): string | null {
  const low = files.filter((f) => f.class === 'low');
  const high = files.filter((f) => f.class === 'high');
  if (low.length === 0 || high.length === 0) return null;
  const list = (fs: RiskFile[]) =>
    fs
      .slice(0, 3)
      .map((f) => f.path)
      .join(', ') + (fs.length > 3 ? ` (+${fs.length - 3} more)` : '');
  return `split the change: the ${low.length} low-risk file${low.length > 1 ? 's' : ''} can ship now; hold ${list(high)} until the pause lifts`;
}

export function overrideAction(policy: Policy): string {
  const labels = policy.overrides.reasons.map((r) => `\`override:${r}\``).join(', ');
  return `ask an approver (${describeApprovers(policy.overrides)}) to apply ${labels} if an exception is justified; it is logged for the retro`;
}
