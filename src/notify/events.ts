import { createHash } from 'node:crypto';
import type { Decision, FiringAlert } from '../policy/gate/decision-schema.ts';
import type { OncallPolicy, Severity } from '../policy/oncall/schema.ts';
import type { Alert, Policy } from '../policy/spec/schema.ts';
import {
  contextLinks,
  GITHUB_WEB,
  type Link,
  type PageContext,
  type PageFacts,
  pageContext,
} from './links.ts';

// What budget-gate tells the people on call about, as values: built from a gate decision or a
// revert, sent by the Notifier. The key is the dedup key PagerDuty sees and the ledger's record id:
// one per repository, alert and SLO (no deployment in it: the same burn across two deployments is
// one incident and pages once), one per pause episode, one per revert.

type NotifyKind = 'alert' | 'hard-pause' | 'revert-opened' | 'revert-failed' | 'drill';

export interface NotifyEvent {
  kind: NotifyKind;
  key: string;
  /** owner/name */
  repo: string;
  severity: Severity;
  /** One line, at most 1024 characters (PagerDuty's limit). */
  summary: string;
  component: string | null;
  /** Every link the page carries, most urgent first: runbook, decision, people on call, the rest. */
  links: Link[];
  /** The runbook, who is on call and the decision, each a link or the reason there is none. */
  context: PageContext;
  details: Record<string, unknown>;
}

export interface DecisionContext {
  repo: string;
  /** The deployment this gate decision is about: a deployment id, a sha, or an environment. */
  deployment: string;
  /** Where the decision can be read (check run, workflow run), or why it cannot be linked. */
  url?: string | null;
  /** The link's text (default "budget-gate decision"). */
  url_text?: string;
  /** Why there is no `url` (said on the page instead of the link). */
  url_missing?: string;
  /** GitHub's web address (default https://github.com). */
  server?: string;
  /** The default branch runbook paths are linked on (default HEAD: GitHub resolves it to it). */
  branch?: string | null;
  /** Who is on call is judged at this instant (default the decision's evaluated_at). */
  at?: number;
}

/** Page facts with what a caller left out filled in. */
function facts(
  oncall: OncallPolicy,
  at: number,
  f: { server?: string | undefined; branch?: string | null | undefined },
  decision: Link | string,
): PageFacts {
  return { oncall, at, server: f.server ?? GITHUB_WEB, branch: f.branch ?? null, decision };
}

/** The event's context and its links (context first, then its own). */
function withContext(
  runbook: string | null | undefined,
  repo: string,
  f: PageFacts,
  own: Link[] = [],
): { context: PageContext; links: Link[] } {
  const context = pageContext(runbook, repo, f);
  const links = [...contextLinks(context, f.server)];
  for (const l of own) if (!links.some((x) => x.href === l.href)) links.push(l);
  return { context, links };
}

/** The runbook for a page that is not one alert's: the most urgent of `prefer` with one, else of all. */
function mostUrgentRunbook(policy: Policy, prefer: string[] = []): Alert | null {
  const order = (xs: Alert[]) =>
    xs
      .filter((a) => a.runbook)
      .sort((a, b) => a.severity.localeCompare(b.severity) || b.burn_rate - a.burn_rate)[0] ?? null;
  return order(policy.alerts.filter((a) => prefer.includes(a.name))) ?? order(policy.alerts);
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
  const decision: Link | string = ctx.url
    ? { href: ctx.url, text: ctx.url_text ?? 'budget-gate decision' }
    : (ctx.url_missing ?? 'not linked: the caller gave no link to the decision');
  const at = ctx.at ?? (Date.parse(d.evaluated_at) || 0);
  const f = facts(policy.oncall, at, ctx, decision);
  for (const a of d.alerts) out.push(alertEvent(ctx.repo, a, f, { deployment: ctx.deployment }));
  if (d.state === 'hard-pause') {
    const slos = d.slos.filter((s) => s.state === 'hard-pause');
    const names = slos.map((s) => s.name).sort();
    const rb = mostUrgentRunbook(
      policy,
      d.alerts.map((a) => a.name),
    );
    out.push({
      kind: 'hard-pause',
      key: `budget-gate/${ctx.repo}/hard-pause/${names.join('+')}`,
      repo: ctx.repo,
      severity: policy.oncall.events.hard_pause,
      summary: clip(
        `HARD-PAUSE in ${ctx.repo}: ${slos.map((s) => `${s.name} ${pct(s.consumed)} of budget consumed`).join(', ')}; nothing but reverts ships`,
      ),
      component: names.join(', ') || null,
      ...withContext(rb?.runbook, ctx.repo, f),
      details: {
        reasons: d.reasons.map((r) => r.message),
        evaluated_at: d.evaluated_at,
        ...(rb ? { runbook_of: rb.name } : {}),
      },
    });
  }
  return out;
}

/** One firing alert, as paged; `details` are added to PagerDuty's custom_details. */
export function alertEvent(
  repo: string,
  a: FiringAlert,
  f: PageFacts,
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
    ...withContext(a.runbook, repo, f),
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

/** Where a revert's page links: the branch runbook paths are on, the runbook, the decision. */
export interface RevertPage {
  at: number;
  server?: string;
  branch?: string | null;
  /** The alert whose runbook applies (the watch's evidence names it); default the most urgent. */
  runbook_alert?: string | null;
  /** Where the decision to revert (or its failure) can be read; default the revert pull request. */
  decision?: Link | string;
}

function revertContext(policy: Policy, repo: string, p: RevertPage, fallback: Link | string, own: Link[]) {
  const rb = mostUrgentRunbook(policy, p.runbook_alert ? [p.runbook_alert] : []);
  return {
    ...withContext(rb?.runbook, repo, facts(policy.oncall, p.at, p, p.decision ?? fallback), own),
    runbook_of: rb?.name ?? null,
  };
}

export function revertOpenedEvent(
  policy: Policy,
  f: RevertFacts,
  pr: { number: number; url: string },
  page: RevertPage,
): NotifyEvent {
  const prLink = { href: pr.url, text: `revert #${pr.number}` };
  const { context, links, runbook_of } = revertContext(policy, f.repo, page, prLink, [prLink]);
  return {
    kind: 'revert-opened',
    key: `budget-gate/${f.repo}/revert/${f.deployment_id}`,
    repo: f.repo,
    severity: policy.oncall.events.revert_opened,
    summary: clip(
      `Revert #${pr.number} opened for deployment ${f.deployment_id} (${f.sha.slice(0, 7)}) to ${f.environment} in ${f.repo}: ${f.message}`,
    ),
    component: f.environment,
    links,
    context,
    details: { ...f, revert_pr: pr.number, runbook_of },
  };
}

export function revertFailedEvent(
  policy: Policy,
  f: RevertFacts,
  error: string,
  page: RevertPage,
): NotifyEvent {
  const deployments = {
    href: `${(page.server ?? GITHUB_WEB).replace(/\/+$/, '')}/${f.repo}/deployments/${encodeURIComponent(f.environment)}`,
    text: `deployments to ${f.environment}`,
  };
  const { context, links, runbook_of } = revertContext(policy, f.repo, page, deployments, [deployments]);
  return {
    kind: 'revert-failed',
    key: `budget-gate/${f.repo}/revert-failed/${f.deployment_id}`,
    repo: f.repo,
    severity: policy.oncall.events.revert_failed,
    summary: clip(
      `Revert FAILED for deployment ${f.deployment_id} (${f.sha.slice(0, 7)}) to ${f.environment} in ${f.repo}: the bad deploy is still live. ${error}`,
    ),
    component: f.environment,
    links,
    context,
    details: { ...f, error, runbook_of },
  };
}

/** A drill's test page: marked so nobody takes it for a burn, with the same links a real one has. */
export function drillEvent(alert: Alert, repo: string, key: string, f: PageFacts): NotifyEvent {
  return {
    kind: 'drill',
    key,
    repo,
    severity: alert.severity,
    summary: clip(
      `[DRILL] ${alert.severity} ${alert.name} in ${repo}: a test page, not a burn. Acknowledge it as you would a real one, then run the runbook and confirm each step (\`confirm 1 2 3\`, \`confirm all\`) on the drill issue or as a PagerDuty note.`,
    ),
    component: 'drill',
    ...withContext(alert.runbook, repo, f),
    details: { drill: true, alert: alert.name },
  };
}
