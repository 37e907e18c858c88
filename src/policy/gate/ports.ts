import type { Change } from './change.ts';
import type { TelemetryRequest, TelemetryResult } from './sample.ts';

// The gate's ports: the outside systems the budget gate asks, as interfaces its adapters (src/telemetry,
// src/github, src/cli) implement.

/** Every SLI source (JSONL file, Prometheus HTTP API) answers the same request. */
export interface TelemetrySource {
  readonly name: string;
  fetch(request: TelemetryRequest): Promise<TelemetryResult>;
}

// Where a gate decision's facts about the change come from: GitHub (the Action, the protection
// rule) or flags and files (the CLI). The pipeline asks in two steps so the common case stays
// cheap: what the change touches first, and only when that is blocked, what could let it through.

export interface GatheredChange {
  change: Change;
  /** The pull request the change is (or, for a deploy, the one it ships), when there is one. */
  pull_request: number | null;
  sha: string;
  /** Override labels set aside until the change turns out to be blocked. */
  override_labels: string[];
  warnings: string[];
}

export interface ChangeFacts<G extends GatheredChange = GatheredChange> {
  /** What the change touches; override labels are only named, not yet looked into. */
  gather(): Promise<G>;
  /**
   * The blocked change with what could let it through (who applied the override labels and when,
   * the branch's last push, the pull request a deploy ships), or null when there is nothing left
   * to look up.
   */
  further(gathered: G): Promise<G> | null;
}
