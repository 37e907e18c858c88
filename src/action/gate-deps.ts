import type { GitHubClient, RequestCounter } from '../github/octokit.ts';
import type { TelemetrySource } from '../policy/gate/ports.ts';
import type { EventContext } from './event.ts';
import type { Inputs } from './inputs.ts';

// What the Action's gate is handed from outside (env, clock, GitHub, telemetry), so the tests
// drive it with nock; its own file so the gate's helpers can take it without importing the gate.

interface GateLog {
  info(message: string): void;
  warning(message: string): void;
}

export interface GateDeps {
  gh: GitHubClient;
  counter: RequestCounter;
  inputs: Inputs;
  event: EventContext;
  workspace: string;
  now: () => number;
  openTelemetry: (inputs: Inputs, workspace: string) => Promise<TelemetrySource>;
  log: GateLog;
  auditSleep?: (ms: number) => Promise<void>;
}
