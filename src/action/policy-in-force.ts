import { isAbsolute, relative } from 'node:path';
import { PolicyMissingError, readPolicy } from '../gate/read-policy.ts';
import type { GateEvent } from '../github/gate-event.ts';
import type { Gathered } from '../github/gather-change.ts';
import {
  deployPolicyInForce,
  describeInForce,
  type PolicyInForce,
  readPolicyInForce,
  repoPath,
} from '../github/policy-in-force.ts';
import { type LoadedPolicy, PolicyError } from '../policy/spec/load.ts';
import type { GateDeps } from './gate-deps.ts';
import { GateSetupError } from './gate-setup-error.ts';

// The Action's policy in force: read through the API at a sha the change cannot edit (the pull
// request's base, what the environment runs now), never from the checkout. The checkout's copy is
// the change's own and is only shown in the summary.

export interface ResolvedPolicy {
  /** The policy file's path in the repository. */
  path: string;
  loaded: LoadedPolicy;
  /** The sha it was read at, null when it is the checkout's copy (nothing was in force before). */
  at: string | null;
  /** Where it came from, for a person: "the pull request's base 1a2b3c4". */
  description: string;
  /** The checkout's copy, when it loads: the summary says what it would decide. */
  own: LoadedPolicy | null;
  environment: string;
  /** What a deploy ships, read first because its base locates the policy in force. */
  first: Gathered | null;
  warnings: string[];
}

type Own = { loaded: LoadedPolicy } | { error: GateSetupError };

async function readOwn(deps: GateDeps): Promise<Own> {
  const file = deps.inputs.policy;
  try {
    return { loaded: await readPolicy(file, deps.workspace) };
  } catch (e) {
    if (e instanceof PolicyMissingError) {
      return {
        error: new GateSetupError(
          `no policy file at ${file}: add one (see examples/ in the budget-gate repository), set the \`policy\` ` +
            'input to where it is, or add `actions/checkout` before this step',
        ),
      };
    }
    if (e instanceof PolicyError)
      return { error: new GateSetupError(`invalid policy:\n${e.message}`, e.problems) };
    throw e;
  }
}

export async function resolvePolicy(deps: GateDeps, event: GateEvent): Promise<ResolvedPolicy> {
  const own = await readOwn(deps);
  const ownLoaded = 'loaded' in own ? own.loaded : null;
  // The policy input names the file in the checkout; GitHub knows it by its path in the repository.
  const input = deps.inputs.policy;
  const path = repoPath(isAbsolute(input) ? relative(deps.workspace, input) : input);
  let inForce: PolicyInForce;
  let first: Gathered | null = null;
  let environment: string;
  if (event.kind === 'pull_request') {
    inForce = await readPolicyInForce(deps.gh, event.repo, path, event.base_sha, 'base');
    environment = deps.inputs.environment ?? 'production';
  } else {
    const named = deps.inputs.environment ?? event.environment;
    // Which environment's history to look at, when nothing names it: the checkout's first
    // environment only picks where to look; the policy found there has the last word.
    environment = named ?? ownLoaded?.policy.environments[0] ?? 'production';
    ({ inForce, first } = await deployPolicyInForce(deps.gh, event, environment, path));
    const inForceFirst =
      inForce.lookup.kind === 'ok' ? inForce.lookup.loaded.policy.environments[0] : undefined;
    if (!named && inForceFirst && inForceFirst !== environment) {
      environment = inForceFirst;
      ({ inForce, first } = await deployPolicyInForce(deps.gh, event, environment, path));
    }
  }
  const description = describeInForce(inForce);
  const common = { path, own: ownLoaded, first };
  const lookup = inForce.lookup;
  if (lookup.kind === 'ok') {
    const env =
      event.kind === 'pull_request'
        ? (deps.inputs.environment ?? lookup.loaded.policy.environments[0]!)
        : environment;
    return {
      ...common,
      loaded: lookup.loaded,
      at: inForce.at,
      description,
      environment: env,
      warnings: [],
    };
  }
  if (lookup.kind === 'invalid') {
    // Nothing can be judged by a policy nobody can read; the change's own copy is no stand-in.
    throw new GateSetupError(
      `the policy in force (${path} at ${description}) is invalid:\n${lookup.message}`,
      lookup.problems,
    );
  }
  // Nothing was in force before this change: it introduces the policy, so its own copy is all
  // there is (no pause could have been bypassed, since none was enforced).
  if ('error' in own) throw own.error;
  return {
    ...common,
    loaded: own.loaded,
    at: null,
    description: `this change's own copy (there is no ${path} at ${description})`,
    environment:
      event.kind === 'pull_request'
        ? (deps.inputs.environment ?? own.loaded.policy.environments[0]!)
        : environment,
    warnings: [`no ${path} at ${description}: this change introduces the policy, so its own copy judges it`],
  };
}
