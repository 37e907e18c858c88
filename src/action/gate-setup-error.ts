import type { PolicyProblem } from '../policy/spec/load.ts';

/** A problem with the setup (no policy, a malformed one, a bad input): the step fails in any mode. */
export class GateSetupError extends Error {
  readonly problems: PolicyProblem[];
  constructor(message: string, problems: PolicyProblem[] = []) {
    super(message);
    this.name = 'GateSetupError';
    this.problems = problems;
  }
}
