import { evaluateOverrides } from '../overrides/overrides.ts';
import type { Policy } from '../spec/schema.ts';
import type { Change, RevertEvidence } from './change.ts';
import type { State } from './decision-schema.ts';
import { classifyWithPolicyChange } from './policy-change.ts';
import { type RiskAssessment, revertClaim } from './risk.ts';
import type { TelemetryResult } from './sample.ts';
import { evaluateSlo, type SloEvaluation } from './slo-report.ts';

// What the gate concludes, before a word of it is written: the state, how risky the change is,
// whether it is blocked, and what (if anything) lets it through. explain-verdict.ts turns this
// into reasons and actions; decide.ts puts the two together as the one decision value.

export interface DecideInput {
  policy: Policy;
  /** Evaluation time, ms since epoch. */
  at: number;
  change: Change;
  telemetry: { source: string; result: TelemetryResult | null; error: string | null };
  warnings?: string[];
}

/** A change is a revert only on evidence GitHub vouches for, never on what it says of itself. */
export type RevertVerdict =
  | { kind: 'revert'; evidence: RevertEvidence }
  | { kind: 'claimed'; claim: string }
  | { kind: 'none' };

/** How the change goes: through, because nothing holds it; through despite a hold; or held. */
type Passage =
  | { kind: 'open' }
  | { kind: 'revert'; evidence: RevertEvidence; held: boolean }
  | { kind: 'override'; override: NonNullable<Overrides['applied']> }
  | { kind: 'held' };

type Overrides = ReturnType<typeof evaluateOverrides>;

export interface Verdict {
  state: State;
  /** The risk the change is judged at (high when GitHub listed only part of its files). */
  risk: RiskAssessment;
  /** The files' own classification, before a partial list raised it. */
  classified: RiskAssessment;
  evaluations: SloEvaluation[];
  /** The SLOs not in `ship`. */
  pausing: SloEvaluation[];
  telemetryError: string | null;
  /** SLOs with too little traffic, and what the policy (or the default for this risk) does about it. */
  insufficient: { evaluations: SloEvaluation[]; onGap: 'allow' | 'block' } | null;
  /** Held by the state, the telemetry or a traffic gap, before any revert or override. */
  blocked: boolean;
  revert: RevertVerdict;
  overrides: Overrides;
  passage: Passage;
}

const SEVERITY: Record<State, number> = { ship: 0, 'soft-pause': 1, 'hard-pause': 2 };

export function judgeRevert(change: Change): RevertVerdict {
  if (change.revert_evidence) return { kind: 'revert', evidence: change.revert_evidence };
  const claim = revertClaim(change);
  return claim ? { kind: 'claimed', claim } : { kind: 'none' };
}

/** The gate's verdict: a pure function of the policy, the samples, the change and the time. */
export function judge(input: DecideInput): Verdict {
  const { policy, at, change, telemetry } = input;
  const classified = classifyWithPolicyChange(policy, change);
  // Files GitHub did not list could be prompts or models: a partial list is judged high risk.
  const risk = change.files_partial ? { ...classified, risk: 'high' as const } : classified;
  const telemetryError = telemetry.error ?? (telemetry.result ? null : 'no telemetry was read');
  const samples = telemetry.result?.slos ?? {};
  const evaluations = telemetryError
    ? []
    : policy.slos.map((slo) => evaluateSlo(policy, slo, samples[slo.name], at));

  let state: State = 'ship';
  for (const e of evaluations) if (SEVERITY[e.report.state] > SEVERITY[state]) state = e.report.state;
  let blocked = false;
  if (telemetryError && policy.states.on_telemetry_error === 'block') {
    // Fail closed by default: with no numbers the gate cannot tell a healthy fleet from a burning one.
    state = 'hard-pause';
    blocked = true;
  }
  if (state === 'hard-pause' && !telemetryError) blocked = true;
  if (state === 'soft-pause' && risk.risk === 'high') blocked = true;

  const gaps = evaluations.filter((e) => e.report.insufficient_data);
  const insufficient =
    gaps.length > 0
      ? {
          evaluations: gaps,
          onGap: policy.states.on_insufficient_data ?? (risk.risk === 'high' ? 'block' : 'allow'),
        }
      : null;
  if (insufficient?.onGap === 'block') blocked = true;

  const revert = judgeRevert(change);
  const overrides = evaluateOverrides(policy.overrides, change, at);
  const passage: Passage =
    revert.kind === 'revert'
      ? { kind: 'revert', evidence: revert.evidence, held: blocked }
      : !blocked
        ? { kind: 'open' }
        : overrides.applied
          ? { kind: 'override', override: overrides.applied }
          : { kind: 'held' };

  return {
    state,
    risk,
    classified,
    evaluations,
    pausing: evaluations.filter((e) => e.report.state !== 'ship'),
    telemetryError,
    insufficient,
    blocked,
    revert,
    overrides,
    passage,
  };
}
