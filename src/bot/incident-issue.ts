import { statusOf } from '../github/errors.ts';
import type { GitHubClient } from '../github/octokit.ts';
import type { FiringAlert } from '../policy/gate/decision-schema.ts';
import { rotationOf, shiftAt } from '../policy/oncall/rotation.ts';
import type { AuditRecord } from '../policy/overrides/audit-chain.ts';
import type { Policy } from '../policy/spec/schema.ts';
import type { Incident, SqlIncidentStore, TimelineEvent } from '../store/incidents.ts';
import type { IncidentHooks } from './alerting.ts';
import type { Evaluated } from './evaluator.ts';
import type { BotLog } from './log.ts';

// The incident record on GitHub: for a sev1 or sev2 page, an issue labelled `incident` (and its
// severity) with the runbook, who is on call and the timeline, edited as the timeline grows and
// closed when the bot resolves it; for a `ticket` alert, an issue labelled `ticket` that pages no
// one. A repository with issues disabled answers 410: the record stays in the store and the pages.
// The issue is where a team without PagerDuty acknowledges: the on-call assigns themselves or
// comments (src/bot/handlers/incident-ack.ts).

const INCIDENT_LABEL = 'incident';
const TICKET_LABEL = 'ticket';
const ISSUE_MARKER = (key: string) => `<!-- budget-gate:incident ${key} -->`;

type IssueStore = Pick<SqlIncidentStore, 'setIssue' | 'timeline' | 'note' | 'noteOnce' | 'get'>;

interface Deployed {
  id: number;
  environment: string;
  sha: string;
  at: number;
  status: string;
  revert_pr: number | null;
}

/** Who is on call now: the rotation's primary and secondary, or the pre-rotation reviewers. */
function onCallNow(policy: Policy, at: number): string[] {
  const r = rotationOf(policy.oncall);
  if (r) {
    const s = shiftAt(r, at);
    return [`@${s.primary} (primary)`, ...(s.secondary ? [`@${s.secondary} (secondary)`] : [])];
  }
  return [...policy.oncall.users.map((u) => `@${u}`), ...policy.oncall.teams.map((t) => `team ${t}`)];
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The issue's body: pure, so what GitHub receives is tested without it. */
function incidentBody(
  inc: Incident,
  o: { runbook: string | null; oncall: string[]; timeline: TimelineEvent[]; deployments: Deployed[] },
): string {
  const ack =
    inc.acked_at !== null
      ? `Acknowledged by ${inc.acked_by} at ${iso(inc.acked_at)}.`
      : 'Not acknowledged yet: the on-call acknowledges by **assigning themselves** to this issue or **commenting** on it (or in PagerDuty). Unacknowledged, it escalates along the policy’s path.';
  const lines = [
    ISSUE_MARKER(inc.key),
    `**${inc.severity} ${inc.alert}** on SLO \`${inc.slo}\` in ${inc.repo}, since ${iso(inc.opened_at)}.`,
    '',
    `- Runbook: ${o.runbook ?? 'none in the policy (add `runbook:` to the alert)'}`,
    `- On call: ${o.oncall.length ? o.oncall.join(', ') : 'nobody named in `oncall`'}`,
    `- Dedup key: \`${inc.key}\``,
    `- ${ack}`,
    ...(inc.resolved_at !== null ? [`- Resolved at ${iso(inc.resolved_at)} by ${inc.resolved_by}.`] : []),
    '',
    '### Deployments in the window',
    '',
    ...(o.deployments.length
      ? o.deployments.map(
          (d) =>
            `- ${iso(d.at)} deployment ${d.id} (${d.sha.slice(0, 7)}) to ${d.environment}: ${d.status}${d.revert_pr ? `, reverted by #${d.revert_pr}` : ''}`,
        )
      : ['- none watched by budget-gate']),
    '',
    '### Timeline',
    '',
    ...o.timeline.map((t) => `- ${iso(t.at)} ${t.text}`),
  ];
  return `${lines.join('\n')}\n`;
}

export interface IncidentIssuesOptions {
  store: IssueStore;
  /** Deployments of the repository the bot watched, for the window. */
  deployments: (repo: string, since: number) => Promise<Deployed[]>;
  /** Overrides applied in the repository between two times, from the audit log as the bot read it (audit-sync.ts). */
  overrides?: (repo: string, from: number, to: number) => Promise<AuditRecord[]>;
  log: BotLog;
}

/** The timeline's line for an override used in the incident's window: who let what through, and why. */
function overrideText(r: AuditRecord): string {
  const what = r.pull_request !== null ? `#${r.pull_request}` : r.sha ? r.sha.slice(0, 7) : 'a change';
  const state = r.state ? ` through ${r.state.toUpperCase()}` : '';
  return `override \`${r.label}\` let ${what} ship${state}, approved by ${r.actor ? `@${r.actor}` : 'someone unrecorded'} (audit record ${r.seq})`;
}

export class IncidentIssues implements IncidentHooks {
  private readonly o: IncidentIssuesOptions;
  constructor(o: IncidentIssuesOptions) {
    this.o = o;
  }

  private wanted(inc: Incident): boolean {
    return inc.action === 'ticket' || inc.severity === 'sev1' || inc.severity === 'sev2';
  }

  private async body(inc: Incident, policy: Policy, at: number) {
    const timeline = await this.o.store.timeline(inc);
    const alert = policy.alerts.find((a) => a.name === inc.alert);
    const window = alert?.long.ms ?? 3_600_000;
    const deployments = await this.o.deployments(inc.repo, inc.opened_at - window);
    return {
      timeline,
      text: incidentBody(inc, {
        runbook: alert?.runbook ?? null,
        oncall: onCallNow(policy, at),
        timeline,
        deployments,
      }),
    };
  }

  /**
   * Every override used in the incident's window — from its alert's long window before it opened
   * until it resolved — goes into its timeline once (named by the audit record, so noting it again
   * at each evaluation writes nothing). Done for every incident, with an issue or without: the
   * dashboard shows the same timeline.
   */
  private async noteOverrides(inc: Incident, policy: Policy, at: number): Promise<void> {
    if (!this.o.overrides) return;
    const alert = policy.alerts.find((a) => a.name === inc.alert);
    const from = inc.opened_at - (alert?.long.ms ?? 3_600_000);
    for (const r of await this.o.overrides(inc.repo, from, inc.resolved_at ?? at)) {
      const when = Date.parse(r.at);
      await this.o.store.noteOnce(inc, `audit-${r.seq}-${inc.key}-${inc.opened_at}`, {
        at: Number.isFinite(when) ? when : at,
        kind: 'override',
        text: overrideText(r),
      });
    }
  }

  async opened(inc: Incident, e: Evaluated, a: FiringAlert): Promise<void> {
    await this.noteOverrides(inc, e.policy, e.at);
    if (!this.wanted(inc)) return;
    const [owner, repo] = inc.repo.split('/') as [string, string];
    const { timeline, text } = await this.body(inc, e.policy, e.at);
    const labels = inc.action === 'ticket' ? [TICKET_LABEL, inc.severity] : [INCIDENT_LABEL, inc.severity];
    try {
      const res = await e.gh.request('POST /repos/{owner}/{repo}/issues', {
        owner,
        repo,
        title: `${inc.action === 'ticket' ? 'Ticket' : 'Incident'}: ${a.severity} ${a.name} on ${a.slo}`,
        body: text,
        labels,
      });
      // The note of its own opening is not worth an edit of the issue.
      await this.o.store.note(inc, {
        at: e.at,
        kind: 'issue',
        text: `incident issue #${res.data.number} opened`,
      });
      await this.o.store.setIssue(inc, res.data.number, 'open', timeline.length + 1);
    } catch (err) {
      if (statusOf(err) !== 410) throw err;
      await this.o.store.setIssue(inc, null, 'disabled', 0);
      await this.o.store.note(inc, {
        at: e.at,
        kind: 'issue-disabled',
        text: 'issues are disabled in this repository (GitHub answered 410): the record is kept in the budget-gate store and the pages carry it',
      });
    }
  }

  /** The escalation, said on the issue so the person named is notified by GitHub too. */
  async escalated(inc: Incident, e: Evaluated, login: string, text: string): Promise<void> {
    const fresh = (await this.o.store.get(inc)) ?? inc;
    if (fresh.issue_number === null || fresh.issue_state !== 'open') return;
    const [owner, repo] = fresh.repo.split('/') as [string, string];
    await e.gh.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      owner,
      repo,
      issue_number: fresh.issue_number,
      body: `@${login}: ${text}. Acknowledge by assigning yourself to this issue or commenting on it.`,
    });
  }

  /** Edits the issue when its timeline grew; closes it once the bot resolved the incident. */
  async changed(inc: Incident, e: Evaluated): Promise<void> {
    await this.noteOverrides(inc, e.policy, e.at);
    await this.refresh(inc, e.policy, e.gh, e.at);
  }

  async refresh(inc: Incident, policy: Policy, gh: GitHubClient, at: number): Promise<void> {
    const fresh = (await this.o.store.get(inc)) ?? inc;
    if (fresh.issue_number === null || fresh.issue_state !== 'open') return;
    const { timeline, text } = await this.body(fresh, policy, at);
    const closing = fresh.resolved_at !== null;
    if (timeline.length === fresh.issue_events && !closing) return;
    const [owner, repo] = fresh.repo.split('/') as [string, string];
    await gh.request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', {
      owner,
      repo,
      issue_number: fresh.issue_number,
      body: text,
      ...(closing ? { state: 'closed' as const, state_reason: 'completed' as const } : {}),
    });
    await this.o.store.setIssue(fresh, fresh.issue_number, closing ? 'closed' : 'open', timeline.length);
  }
}
