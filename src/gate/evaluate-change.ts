import { bareLabel, type Change } from '../policy/gate/change.ts';
import { decide } from '../policy/gate/decide.ts';
import type { Decision } from '../policy/gate/decision-schema.ts';
import { planRequest } from '../policy/gate/plan.ts';
import type { ChangeFacts, GatheredChange, TelemetrySource } from '../policy/gate/ports.ts';
import type { TelemetryResult } from '../policy/gate/sample.ts';
import type { AuditEntry } from '../policy/overrides/audit-chain.ts';
import {
  blockUnrecorded,
  overrideAuditEntry,
  revertAuditEntry,
  sameUse,
} from '../policy/overrides/audit-entry.ts';
import type { AuditSink, AuditWrite } from '../policy/overrides/ports.ts';
import { formatProblem, type LoadedPolicy } from '../policy/spec/load.ts';
import { TelemetryError } from '../telemetry/errors.ts';
import { maxDataAge, staleData } from '../telemetry/freshness.ts';

/** How far back a source that must ask for its newest data looks, at least. */
const FRESHNESS_PROBE_MS = 60 * 60_000;

// The one gate pipeline. The Action (PR check and deploy step), the deployment protection rule
// and the CLI all call this: policy → (change ∥ telemetry) → decide → (what could let a blocked
// change through) → decide → audit. A surface only reads its input and renders the result, so a
// decision made in GitHub replays locally to the same JSON.

/** Burn-chart resolution: points per SLO window. */
const CHART_POINTS = 24;

export interface EvaluateChangeInput<G extends GatheredChange, W extends AuditWrite> {
  loaded: LoadedPolicy;
  /** Evaluation time, ms since epoch. */
  at: number;
  source: TelemetrySource;
  facts: ChangeFacts<G>;
  /** Where an honoured exception is written; null where nothing can be (the CLI). */
  audit: AuditSink<W> | null;
  /** Context for the audit record. */
  repo: string | null;
  /** `bot` for the protection rule, `action` for the workflow step, `cli` locally. */
  origin: AuditEntry['source'];
  /** What the surface found while locating the policy in force, for the decision's warnings. */
  warnings?: string[];
}

export interface ChangeEvaluation<G extends GatheredChange, W extends AuditWrite> {
  decision: Decision;
  gathered: G;
  /** Every fact the decision was made on, override labels set aside included: what a replay needs. */
  change: Change;
  /** Telemetry could not be read: the decision follows `on_telemetry_error`. */
  telemetryError: TelemetryError | null;
  /** What the telemetry said, so a surface can show what another policy would decide on it. */
  telemetry: TelemetryResult | null;
  audit: { written: W | null; error: string | null };
}

async function readTelemetry(
  source: TelemetrySource,
  loaded: LoadedPolicy,
  at: number,
): Promise<{ result: TelemetryResult | null; error: TelemetryError | null }> {
  try {
    const request = planRequest(loaded.policy, at, { series: CHART_POINTS, quantiles: true });
    // Where a source must ask for its newest data, it looks back past the policy's limit, so an
    // age just over it is still said exactly.
    const freshnessSpan = Math.max(maxDataAge(loaded.policy, 'prometheus').ms, FRESHNESS_PROBE_MS);
    const result = await source.fetch({ ...request, freshnessSpan });
    const stale = staleData(result, at, loaded.policy, source.name);
    if (stale) return { result: null, error: stale };
    return { result, error: null };
  } catch (e) {
    // Only a telemetry failure is a decision input; anything else is a bug and must surface.
    if (e instanceof TelemetryError) return { result: null, error: e };
    throw e;
  }
}

export async function evaluateChange<G extends GatheredChange, W extends AuditWrite>(
  input: EvaluateChangeInput<G, W>,
): Promise<ChangeEvaluation<G, W>> {
  const { loaded, at, source, facts } = input;
  const policy = loaded.policy;
  const policyWarnings = [...(input.warnings ?? []), ...loaded.warnings.map(formatProblem)];

  const [first, telemetry] = await Promise.all([facts.gather(), readTelemetry(source, loaded, at)]);
  const decideWith = (g: G) =>
    decide({
      policy,
      at,
      change: g.change,
      telemetry: { source: source.name, result: telemetry.result, error: telemetry.error?.message ?? null },
      warnings: [...policyWarnings, ...g.warnings],
    });

  let gathered: G = first;
  let decision = decideWith(gathered);
  const further = decision.allowed ? null : facts.further(gathered);
  if (further) {
    gathered = await further;
    decision = decideWith(gathered);
  } else if (decision.allowed && gathered.override_labels.length > 0) {
    decision = {
      ...decision,
      warnings: [
        ...decision.warnings,
        `${gathered.override_labels.map((l) => `\`${l}\``).join(', ')} not needed: the change is allowed without an override`,
      ],
    };
  }

  const audit = await record(input, gathered, decision);
  if (audit.error && decision.override) decision = blockUnrecorded(decision, audit.error);
  else if (audit.error) {
    // A verified revert lowers risk: it still ships during an incident, and the gap is said loudly.
    decision = {
      ...decision,
      warnings: [
        ...decision.warnings,
        `this revert passed the ${decision.state} but could not be written to the audit log: ${audit.error}`,
      ],
    };
  }
  const named = new Set(gathered.change.labels.map((l) => l.name));
  const change: Change = {
    ...gathered.change,
    ...(gathered.warnings.length > 0 ? { warnings: gathered.warnings } : {}),
    labels: [
      ...gathered.change.labels,
      ...gathered.override_labels.filter((n) => !named.has(n)).map(bareLabel),
    ],
  };
  return { decision, gathered, change, telemetryError: telemetry.error, telemetry: telemetry.result, audit };
}

async function record<G extends GatheredChange, W extends AuditWrite>(
  input: EvaluateChangeInput<G, W>,
  gathered: GatheredChange,
  decision: Decision,
): Promise<{ written: W | null; error: string | null }> {
  const ctx = {
    repo: input.repo ?? '(local)',
    pull_request: gathered.pull_request,
    sha: gathered.sha,
    author: gathered.change.author,
  };
  const entry = overrideAuditEntry(decision, ctx) ?? revertAuditEntry(decision, ctx);
  if (!entry || !input.audit) return { written: null, error: null };
  try {
    const written = await input.audit.append({ ...entry, source: input.origin }, sameUse(entry));
    return { written, error: null };
  } catch (e) {
    return { written: null, error: (e as Error).message };
  }
}
