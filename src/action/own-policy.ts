import type { ChangeEvaluation } from '../gate/evaluate-change.ts';
import type { Gathered } from '../github/gather-change.ts';
import { decide } from '../policy/gate/decide.ts';
import type { AuditWrite } from '../policy/overrides/ports.ts';
import { renderHeadline } from '../report/headline.ts';
import type { ResolvedPolicy } from './policy-in-force.ts';

// The summary's word on the checkout's copy of the policy: the change is judged by the policy in
// force, and when its own copy differs, a person sees what that copy would have decided — for
// information only, never as the verdict.

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** What the change's own copy would decide on the same facts and telemetry; null when it is the same policy. */
export function ownVerdict(
  resolved: ResolvedPolicy,
  evaluation: ChangeEvaluation<Gathered, AuditWrite>,
  at: number,
  source: string,
): string | null {
  const own = resolved.own;
  if (!own || resolved.at === null || same(own.policy, resolved.loaded.policy)) return null;
  const result = evaluation.telemetry;
  // Its SLOs may ask the telemetry for what was never read: then only the difference is said.
  if (result && !own.policy.slos.every((s) => s.name in result.slos))
    return 'its SLOs differ from the ones the telemetry was read for, so it was not evaluated';
  const { policy_change: _, ...change } = evaluation.change;
  const d = decide({
    policy: own.policy,
    at,
    change,
    telemetry: { source, result, error: evaluation.telemetryError?.message ?? null },
  });
  return `under its own policy this change would be ${d.allowed ? 'allowed' : 'blocked'}: ${renderHeadline(d)}`;
}

export function inForceSection(resolved: ResolvedPolicy, path: string, own: string | null): string {
  const lines = ['', '### The policy in force', '', `Judged by ${path} at ${resolved.description}.`];
  if (own)
    lines.push(
      '',
      `This checkout's copy of ${path} differs from the policy in force, and a change cannot judge itself: ${own}.`,
    );
  return `${lines.join('\n')}\n`;
}
