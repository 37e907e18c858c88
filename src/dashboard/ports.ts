import { z } from 'zod';
import type { Decision, State } from '../policy/gate/decision-schema.ts';
import type { AuditRecord } from '../policy/overrides/audit-chain.ts';
import type { Readiness } from '../policy/readiness/verdict.ts';

// What the dashboard reads, and nothing else. The pages never compute a budget: every figure here
// was stored by whoever evaluated it (the bot's continuous evaluation, or `budget-gate dashboard`
// once at start-up), so a page load is a read and a render. Values are plain JSON (times as
// ISO-8601 strings, as in the decision) so a store can keep them as rows or documents.
// Access is not the store's business: the server asks for one repository at a time and answers
// 404 itself for a repository the viewer may not read.

/** `owner/name`, the one spelling of a repository across the port. */
export type RepoName = string;

/** One line of the fleet: a repository in one environment. */
export interface FleetRow {
  repo: RepoName;
  environment: string;
  state: State;
  /** The SLO with the least budget left, or null before the first evaluation. */
  worst_slo: string | null;
  /** That SLO's budget left, 0..1 (negative once overspent); null when unknown. */
  remaining: number | null;
  /** That SLO's burn rate over the pace lookback (1d when the policy has it). */
  burn: number | null;
  /** How many alerts fire now. */
  alerts: number;
  evaluated_at: string;
}

/** An alert the policy defines, with the burn it compares: the page draws each against its line. */
export const alertWindowSchema = z.object({
  name: z.string(),
  severity: z.enum(['sev1', 'sev2', 'sev3']),
  action: z.enum(['page', 'ticket']),
  burn_rate: z.number(),
  long: z.string(),
  short: z.string(),
});
export type AlertWindow = z.output<typeof alertWindowSchema>;

/** An open pull request the gate holds now. */
interface HeldPull {
  number: number;
  title: string;
  author: string | null;
  /** The gate's headline for it, as on its check run. */
  headline: string;
  since: string;
}

/** One SLO as the stored evaluations saw it over time (the bot's history; none locally). */
export interface SloTrend {
  slo: string;
  /** The burn's lookback (1d when the policy has it, as in the fleet). */
  lookback: string;
  /** Oldest first: budget consumed over the SLO's window, and the burn, as each evaluation found them. */
  points: Array<{ at: string; consumed: number | null; burn: number | null }>;
}

/** The repository page: the last stored evaluation of the default branch's policy. */
export interface RepositoryView {
  repo: RepoName;
  environment: string;
  /** The decision as the gate made it (same value as the job summary renders). */
  decision: Decision;
  /** The policy's alert table, so burn in every alert window can be drawn against its line. */
  alert_windows: AlertWindow[];
  held: HeldPull[];
  /** Where the figures came from, for the footer: `jsonl examples/…`, `prometheus https://…`. */
  source: string;
  /** Each SLO's budget and burn over its window, from the stored evaluations (absent locally). */
  trend?: SloTrend[];
}

/** One minute of a deployment's watch: what the canary judge saw then. */
export interface EvidenceMinute {
  at: string;
  /** Bad ratio of the baseline before the deploy, and of the minutes since it, as judged then. */
  before_ratio: number | null;
  after_ratio: number | null;
  after_events: number | null;
  after_bad: number | null;
  /** Always-valid bounds on the attributable burn rate, and the line they are tested against. */
  burn_low: number | null;
  burn_high: number | null;
  line_burn: number | null;
  status: 'watching' | 'revert' | 'clear' | 'inconclusive';
}

export interface WatchView {
  deployment_id: number;
  environment: string;
  sha: string;
  pull_number: number | null;
  pull_title: string | null;
  deployed_at: string;
  /** The watch's end state: watching, reverted, kept, superseded, failed… (src/policy/canary/ports.ts). */
  status: string;
  /** The SLO the verdict rests on, and the rule (`auto_revert.burn_rate` or `auto_revert.consumed`). */
  slo: string | null;
  rule: string | null;
  confidence: number | null;
  reason: string | null;
  revert_pr: number | null;
  evidence: EvidenceMinute[];
}

/** A gate decision on a pull request or deployment, as its check run recorded it. */
interface DecisionEntry {
  at: string;
  pull_number: number | null;
  sha: string | null;
  /** Null when the gate could not decide (an invalid policy: the check run fails and says why). */
  state: State | null;
  allowed: boolean;
  headline: string;
}

interface IncidentEvent {
  at: string;
  /** fired, deployment, revert, override, paged, acknowledged, escalated, recovered, resolved… */
  kind: string;
  text: string;
}

interface Incident {
  id: string;
  slo: string;
  alert: string;
  severity: 'sev1' | 'sev2' | 'sev3';
  opened_at: string;
  resolved_at: string | null;
  acknowledged_by: string | null;
  issue_number: number | null;
  timeline: IncidentEvent[];
}

export interface HistoryView {
  decisions: DecisionEntry[];
  /** Overrides (applied and refused) and reverts passed, straight from the audit log. */
  audit: AuditRecord[];
  incidents: Incident[];
  /** Why the audit records may be incomplete or out of date (the log could not be read, or was rewritten). */
  audit_note?: string | null;
}

export interface OncallView {
  /** Null when the policy has no rotation (reviewers only). */
  now: { primary: string; secondary: string | null; starts: string; ends: string } | null;
  next: { primary: string; secondary: string | null; at: string } | null;
  zone: string;
  ack: string;
  escalation: { step: number; login: string; role: string; after_minutes: number }[];
  readiness: Readiness | null;
}

/** The pages this store can fill: local mode has no deployments or history to show. */
export interface Capabilities {
  deployments: boolean;
  history: boolean;
  /** Why a missing page is missing, shown where its link would be. */
  note: string | null;
}

/**
 * The dashboard's read port. The bot's store implements it over its stored evaluations, watches,
 * audit records and incidents; `budget-gate dashboard` over one policy and one JSONL file.
 * Unknown repositories answer null (never an error): the server turns that into the same 404 as a
 * repository the viewer may not read.
 */
export interface DashboardStore {
  readonly capabilities: Capabilities;
  /** Every repository and environment, in no particular order. */
  fleet(): Promise<FleetRow[]>;
  repository(repo: RepoName): Promise<RepositoryView | null>;
  deployments(repo: RepoName): Promise<WatchView[] | null>;
  history(repo: RepoName): Promise<HistoryView | null>;
  oncall(repo: RepoName): Promise<OncallView | null>;
}
