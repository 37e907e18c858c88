import { globProblem, MAX_RISK_PATTERNS } from '../gate/risk.ts';
import type { Policy } from './schema.ts';

// What the schema cannot see key by key: values that are each well-formed but together (or in
// cost) make no sense. Each problem names the key path to blame and why.

export interface SanityProblem {
  path: Array<string | number>;
  message: string;
}

const PLACEHOLDER = '$' + '{window}';

export function sanityProblems(policy: Policy): SanityProblem[] {
  const out: SanityProblem[] = [];
  const { soft_pause, hard_pause } = policy.states;
  if (soft_pause.consumed > hard_pause.consumed) {
    out.push({
      path: ['states', 'soft_pause', 'consumed'],
      message: `soft-pause at ${soft_pause.consumed} consumed is above hard-pause at ${hard_pause.consumed}: soft-pause could never happen; make it lower`,
    });
  }
  const lookback = soft_pause.pace_lookback.ms;
  policy.slos.forEach((slo, i) => {
    const w = slo.window;
    if (w.kind === 'rolling' && lookback > w.ms) {
      out.push({
        path: ['states', 'soft_pause', 'pace_lookback'],
        message: `pace_lookback ${soft_pause.pace_lookback} is longer than the ${w.spec} window of slos[${i}] (${slo.name}): the burn over it would count tasks outside the window`,
      });
    }
    const prom = slo.source?.prometheus;
    if (prom && 'total' in prom) {
      for (const part of ['bad', 'good', 'total'] as const) {
        const expr = (prom as Record<string, string | undefined>)[part];
        if (expr !== undefined && !expr.includes(PLACEHOLDER)) {
          out.push({
            path: ['slos', i, 'source', 'prometheus', part],
            message: `no ${PLACEHOLDER}: every range (window, lookbacks) would read the same value; write the range as [${PLACEHOLDER}]`,
          });
        }
      }
    }
  });
  const ar = policy.auto_revert;
  if (ar.interval.ms > ar.within.ms) {
    out.push({
      path: ['auto_revert', 'interval'],
      message: `interval ${ar.interval} is longer than the ${ar.within} watch (auto_revert.within): the bot would never look before the watch ends`,
    });
  }
  policy.alerts.forEach((a, i) => {
    if (a.short.ms > a.long.ms) {
      out.push({
        path: ['alerts', i, 'short'],
        message: `short ${a.short} is longer than long ${a.long}: the short window confirms the long one, so it must be shorter`,
      });
    }
  });
  let patterns = 0;
  policy.risk.rules.forEach((rule, r) => {
    rule.paths.forEach((pattern, p) => {
      patterns++;
      if (patterns === MAX_RISK_PATTERNS + 1)
        out.push({
          path: ['risk', 'rules', r, 'paths', p],
          message: `more than ${MAX_RISK_PATTERNS} risk globs in the policy: every file of a change is matched against them, so list folders (prompts/**) rather than files`,
        });
      const problem = globProblem(pattern);
      if (problem) out.push({ path: ['risk', 'rules', r, 'paths', p], message: problem });
    });
  });
  return out;
}
