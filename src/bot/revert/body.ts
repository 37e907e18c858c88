import type { TreeEntry } from '../../github/revert-pr.ts';
import type { Watch } from '../../policy/canary/ports.ts';
import { pct as sharePct } from '../../policy/gate/explain.ts';
import { formatDuration } from '../../policy/time/duration.ts';
import type { Evidence } from '../evidence.ts';

// The revert pull request's title and body: the evidence a reviewer needs to merge it without
// opening a dashboard, and the comment left on the pull request that shipped the deployment.

const pct = (x: number | null) => (x === null ? 'n/a' : sharePct(x));
const rate = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(x < 1 ? 2 : 1)}x`);
const iso = (ms: number) => new Date(ms).toISOString();
const short = (sha: string) => sha.slice(0, 7);

export const REVERT_LABELS = ['revert', 'budget-gate'];
export const revertBranch = (deploymentId: number) => `budget-gate/revert-${deploymentId}`;
const revertMarker = (deploymentId: number) => `<!-- budget-gate:revert deployment=${deploymentId} -->`;

export function revertTitle(w: Watch, manual: boolean): string {
  const what = w.pull_number !== null ? `#${w.pull_number}` : short(w.sha);
  return `Revert ${what} (deployment ${w.deployment_id} to ${w.environment})${manual ? ': needs a manual revert' : ''}`;
}

export function commitMessage(w: Watch, e: Evidence, previous: string): string {
  return [
    `Revert deployment ${w.deployment_id} (${short(w.sha)}) on ${w.environment}`,
    '',
    `Restores the files it changed to ${short(previous)}, what ${w.environment} ran before.`,
    `budget-gate: ${e.message}`,
  ].join('\n');
}

/** The judge's verdict in plain words: which rule, how sure, how bad at least. */
function verdictRows(e: Evidence): string[] {
  const v = e.verdict;
  if (!v) return [];
  const rule = v.rules
    .map((r) =>
      r === 'burn_rate'
        ? `the rate rule (auto_revert.burn_rate ${rate(v.burn_rate)})`
        : `the share rule (auto_revert.consumed ${pct(e.threshold)} within ${e.within})`,
    )
    .join(' and ');
  const range = `${v.burn_low === null ? 'n/a' : `at least ${rate(v.burn_low)}`}${v.burn_high === null ? '' : `, at most ${rate(v.burn_high)}`}`;
  return [
    `| Verdict | revert by ${rule}: at ${pct(v.confidence)} confidence, holding over every check of the watch |`,
    `| Attributable burn | ${range} (the line: ${rate(v.line_burn)}) |`,
    ...(v.outage_guard
      ? [
          '| Outage guard | the minutes before the deploy were already worse than the baseline, so the deploy was also compared with them |',
        ]
      : []),
  ];
}

export interface BodyInput {
  watch: Watch;
  evidence: Evidence;
  previous: string;
  previous_note: string | null;
  entries: TreeEntry[];
  conflicts: string[];
  warnings: string[];
  auto_merge: boolean;
}

export function revertBody(b: BodyInput): string {
  const { watch: w, evidence: e } = b;
  const repoUrl = `https://github.com/${w.owner}/${w.repo}`;
  const shipped =
    w.pull_number !== null
      ? `#${w.pull_number}${w.pull_title ? ` ${w.pull_title}` : ''}`
      : 'no pull request found for the commit';
  const manual = b.conflicts.length > 0;
  const lines = [
    manual
      ? `> [!WARNING]\n> **Needs a manual revert.** ${b.conflicts.length} of the files this deployment changed were also changed by later commits on \`${w.default_branch}\`, or are workflow files (see the warnings); budget-gate did not guess at them. The other files are reverted in this branch.`
      : `Automatic revert by budget-gate: deployment ${w.deployment_id} burned too much error budget too fast.`,
    '',
    `**${e.message}**`,
    '',
    '| | |',
    '|---|---|',
    `| SLO | \`${e.slo}\`: ${e.sli} ${pct(e.target)} over ${e.window} |`,
    ...verdictRows(e),
    `| Attributable consumed | **${pct(e.attributable_consumed)}** of the ${e.window} error budget beyond the baseline${e.projected_consumed !== null ? ` (projected ${pct(e.projected_consumed)} by ${e.within})` : ''} |`,
    `| Auto-revert line | ${pct(e.threshold)} within ${e.within} |`,
    `| Burn rate since the deploy | ${rate(e.post_burn)} (bad ratio ${pct(e.post_ratio)}; ${e.post_bad ?? 'n/a'} of ${e.post_events ?? 'n/a'} tasks) |`,
    `| Baseline before the deploy | ${rate(e.baseline_burn)} (bad ratio ${pct(e.baseline_ratio)} over the ${e.baseline_span} before) |`,
    `| Bad tasks beyond the baseline | ${e.excess_bad === null ? 'n/a' : e.excess_bad.toFixed(0)} of a ${e.window_budget === null ? 'n/a' : e.window_budget.toFixed(0)}-task budget |`,
    `| Went live | ${iso(e.deployed_at)} |`,
    `| Detected | ${iso(e.detected_at)} (${formatDuration(Math.max(0, e.detected_at - e.deployed_at))} after) |`,
    `| Deployment | [${w.deployment_id}](${repoUrl}/deployments) of \`${short(w.sha)}\` to \`${w.environment}\` |`,
    `| Shipped by | ${shipped} |`,
    `| Restores | \`${short(b.previous)}\`${w.previous_deployment_id !== null ? `, deployment ${w.previous_deployment_id}` : ''}${b.previous_note ? ` (${b.previous_note})` : ''} |`,
    '',
  ];
  if (e.runbook) lines.push(`Runbook (${e.runbook.alert}): ${e.runbook.url}`, '');
  if (b.entries.length > 0) {
    lines.push('### Reverted files', '');
    for (const t of b.entries) {
      lines.push(
        t.sha === null
          ? `- \`${t.path}\`: deleted (the deployment added it)`
          : `- \`${t.path}\`: restored from \`${short(b.previous)}\``,
      );
    }
    lines.push('');
  }
  if (manual) {
    lines.push('### Needs a manual revert', '', ...b.conflicts.map((p) => `- \`${p}\``), '');
  }
  if (b.warnings.length > 0) lines.push('### Warnings', '', ...b.warnings.map((x) => `- ${x}`), '');
  lines.push(
    b.auto_merge && !manual
      ? 'The policy says `auto_revert.merge: auto`: this pull request merges itself once its checks pass.'
      : 'Merge it to finish the revert. Reverts always pass the budget gate.',
    '',
    revertMarker(w.deployment_id),
  );
  return lines.join('\n');
}

export function shippedComment(w: Watch, e: Evidence, prUrl: string, manual: boolean): string {
  return [
    `budget-gate is reverting this change: deployment ${w.deployment_id} (\`${short(w.sha)}\` to \`${w.environment}\`) burned ${pct(e.attributable_consumed)} of the \`${e.slo}\` ${e.window} error budget beyond its baseline within ${formatDuration(e.elapsed_ms)} of going live (the line is ${pct(e.threshold)} within ${e.within}).`,
    '',
    `Revert: ${prUrl}${manual ? ' (draft: needs a manual revert)' : ''}`,
    ...(e.runbook ? ['', `Runbook: ${e.runbook.url}`] : []),
  ].join('\n');
}

/**
 * The comment on the shipping pull request under `auto_revert.mode: shadow`: the same verdict and
 * evidence a revert would carry, and nothing reverted.
 */
export function shadowComment(w: Watch, e: Evidence): string {
  return [
    `**budget-gate would revert this change** (shadow mode: nothing was reverted). Deployment ${w.deployment_id} (\`${short(w.sha)}\` to \`${w.environment}\`), ${formatDuration(Math.max(0, e.detected_at - e.deployed_at))} after it went live:`,
    '',
    `> ${e.message}`,
    '',
    '| | |',
    '|---|---|',
    `| SLO | \`${e.slo}\`: ${e.sli} ${pct(e.target)} over ${e.window} |`,
    ...verdictRows(e),
    `| After the deploy | bad ratio ${pct(e.post_ratio)}: ${e.post_bad ?? 'n/a'} of ${e.post_events ?? 'n/a'} tasks (${rate(e.post_burn)} burn) |`,
    `| Before it | bad ratio ${pct(e.baseline_ratio)} over the ${e.baseline_span} before (${rate(e.baseline_burn)} burn) |`,
    `| Attributable consumed | ${pct(e.attributable_consumed)} of the ${e.window} error budget beyond the baseline |`,
    '',
    'The policy says `auto_revert.mode: shadow`: budget-gate judges every deployment as it would in `enforce` and reports here instead of opening a revert. Set `auto_revert.mode: enforce` once its verdicts have earned trust.',
    '',
    shadowMarker(w.deployment_id),
  ].join('\n');
}

const shadowMarker = (deploymentId: number) => `<!-- budget-gate:shadow deployment=${deploymentId} -->`;
