import type { DeploymentAssessment } from '../policy/canary/assess.ts';
import type { Watch } from '../policy/canary/ports.ts';

// What a tick does per watch beside judging it, kept cheap: 10,000 live watches pass here each tick.

/**
 * Claimed watches grouped by repository and policy (one telemetry fetch each), groups in the order
 * of their first watch. Keyed by the policy text itself, not by a string built around it: the store
 * hands every watch of a revision the same string, whose hash V8 computes once, where a key joined
 * per watch copied the text (kilobytes) each time.
 */
export function groupWatches(claimed: readonly Watch[]): Watch[][] {
  const byText = new Map<string, Map<string, Watch[]>>();
  const groups: Watch[][] = [];
  for (const w of claimed) {
    let byRepo = byText.get(w.policy_text);
    if (!byRepo) {
      byRepo = new Map();
      byText.set(w.policy_text, byRepo);
    }
    const key = `${w.owner}/${w.repo}\n${w.policy_path}`;
    const group = byRepo.get(key);
    if (group) group.push(w);
    else {
      const created = [w];
      byRepo.set(key, created);
      groups.push(created);
    }
  }
  return groups;
}

/** One check's evidence, as the dashboard's history reads it (JSON). */
export function evidenceJson(a: DeploymentAssessment): string {
  const slos = a.slos.map((s) => ({
    slo: s.slo,
    status: s.status,
    burn_low: s.burn_low,
    burn_high: s.burn_high,
    line_burn: s.line_burn,
    attributable_consumed: s.attributable_consumed,
    post: s.post,
    baseline_ratio: s.baseline_ratio,
    outage_guard: s.outage_guard,
  }));
  return JSON.stringify({ breach: a.breach, slos });
}
