import { createHash } from 'node:crypto';
import type { Decision, FiringAlert } from '../policy/gate/decision-schema.ts';
import type { Severity } from '../policy/oncall/schema.ts';
import type { Policy } from '../policy/spec/schema.ts';

// What budget-gate tells the people on call about, as values: built from a gate decision or a
// revert, sent by the Notifier. The key is the dedup key PagerDuty sees and the ledger's record id:
// one per repository, alert and SLO (no deployment in it: the same burn across two deployments is
// one incident and pages once), one per pause episode, one per revert.

type NotifyKind = 'alert' | 'hard-pause' | 'revert-opened' | 'revert-failed';

export interface NotifyEvent {
  kind: NotifyKind;
  key: string;
  /** owner/name */
  repo: string;
  severity: Severity;
  /** One line, at most 1024 characters (PagerDuty's limit). */
  summary: string;
  component: string | null;
  links: Array<{ href: string; text: string }>;
  details: Record<string, unknown>;
}

export interface DecisionContext {
  repo: string;
  /** The deployment this gate decision is about: a deployment id, a sha, or an environment. */
  deployment: string;
  /** Where the decision can be read (check run, workflow run). */
  url?: string | null;
}

/** PagerDuty's dedup_key is at most 255 characters. */
const MAX_DEDUP_KEY = 255;

/** The alert's dedup key: stable across deployments and replicas; a long one keeps its head and a hash. */
function alertKey(repo: string, alert: string, slo: string): string {
  const key = `budget-gate/${repo}/alert/${alert}/${slo}`;
  if (key.length <= MAX_DEDUP_KEY) return key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return `${key.slice(0, MAX_DEDUP_KEY - 17)}~${hash}`;
}

const clip = (s: string) => (s.length > 1024 ? `${s.slice(0, 1021)}...` : s);
const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toPrecision(3)}%`);

/** Alerts firing in a gate decision and a hard pause it reports. */
export function decisionEvents(policy: Policy, d: Decision, ctx: DecisionContext): NotifyEvent[] {
  const out: NotifyEvent[] = [];
  const link = ctx.url ? [{ href: ctx.url, text: 'budget-gate decision' }] : [];
  for (const a of d.alerts) out.push(alertEvent(ctx.repo, a, link, { deployment: ctx.deployment }));
  if (d.state === 'hard-pause') {
    const slos = d.slos.filter((s) => s.state === 'hard-pause');
    const names = slos.map((s) => s.name).sort();
    out.push({
      kind: 'hard-pause',
      key: `budget-gate/${ctx.repo}/hard-pause/${names.join('+')}`,
      repo: ctx.repo,
      severity: policy.oncall.events.hard_pause,
      summary: clip(
        `HARD-PAUSE in ${ctx.repo}: ${slos.map((s) => `${s.name} ${pct(s.consumed)} of budget consumed`).join(', ')}; nothing but reverts ships`,
      ),
      component: names.join(', ') || null,
      links: link,
      details: { reasons: d.reasons.map((r) => r.message), evaluated_at: d.evaluated_at },
    });
  }
  return out;
}

/** One firing alert, as paged; `details` are added to PagerDuty's custom_details. */
export function alertEvent(
  repo: string,
  a: FiringAlert,
  links: Array<{ href: string; text: string }> = [],
  details: Record<string, unknown> = {},
): NotifyEvent {
  return {
    kind: 'alert',
    key: alertKey(repo, a.name, a.slo),
    repo,
    severity: a.severity,
    summary: clip(
      `${a.severity} ${a.name} on ${a.slo} (${repo}): burning ${a.long_burn.toFixed(1)}x over ${a.long} and ${a.short_burn.toFixed(1)}x over ${a.short}, alert at ${a.burn_rate}x`,
    ),
    component: a.slo,
    links: [...(a.runbook?.startsWith('http') ? [{ href: a.runbook, text: 'runbook' }] : []), ...links],
    details: { ...a, ...details, runbook: a.runbook },
  };
}

export interface RevertFacts {
  repo: string;
  deployment_id: number;
  sha: string;
  environment: string;
  message: string;
}

export function revertOpenedEvent(
  policy: Policy,
  f: RevertFacts,
  pr: { number: number; url: string },
): NotifyEvent {
  return {
    kind: 'revert-opened',
    key: `budget-gate/${f.repo}/revert/${f.deployment_id}`,
    repo: f.repo,
    severity: policy.oncall.events.revert_opened,
    summary: clip(
      `Revert #${pr.number} opened for deployment ${f.deployment_id} (${f.sha.slice(0, 7)}) to ${f.environment} in ${f.repo}: ${f.message}`,
    ),
    component: f.environment,
    links: [{ href: pr.url, text: `revert #${pr.number}` }],
    details: { ...f, revert_pr: pr.number },
  };
}

export function revertFailedEvent(policy: Policy, f: RevertFacts, error: string): NotifyEvent {
  return {
    kind: 'revert-failed',
    key: `budget-gate/${f.repo}/revert-failed/${f.deployment_id}`,
    repo: f.repo,
    severity: policy.oncall.events.revert_failed,
    summary: clip(
      `Revert FAILED for deployment ${f.deployment_id} (${f.sha.slice(0, 7)}) to ${f.environment} in ${f.repo}: the bad deploy is still live. ${error}`,
    ),
    component: f.environment,
    links: [],
    details: { ...f, error },
  };
}
