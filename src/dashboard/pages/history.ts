import { STATE_LABEL } from '../../report/format.ts';
import { stateBadge } from '../decision-html.ts';
import { type Html, html, time } from '../html.ts';
import type { HistoryView, RepoName } from '../ports.ts';
import { layout, type PageContext, tabs } from './layout.ts';

// What happened: the gate's decisions, every exception (overrides applied or refused, reverts let
// through a pause) as the audit log records it with its reason and approver, and the incidents
// with their timelines: the retro's input.

const KIND = {
  'override-applied': 'override applied',
  'override-refused': 'override refused',
  'revert-passed': 'revert passed',
} as const;

export function historyPage(ctx: PageContext, repo: RepoName, h: HistoryView): Html {
  const decisions = [...h.decisions].sort((a, b) => b.at.localeCompare(a.at));
  const audit = [...h.audit].sort((a, b) => b.seq - a.seq);
  const incidents = [...h.incidents].sort((a, b) => b.opened_at.localeCompare(a.opened_at));
  const body = html`${tabs(ctx, repo, 'history')}
<h2>Decisions</h2>
${
  decisions.length === 0
    ? html`<p class="note">No decision recorded.</p>`
    : html`<table class="decisions"><thead><tr><th scope="col">when</th><th scope="col">change</th><th scope="col">state</th><th scope="col">verdict</th><th scope="col">why</th></tr></thead><tbody>
${decisions.map(
  (d) =>
    html`<tr><td>${time(d.at)}</td><td>${d.pull_number !== null ? `#${d.pull_number}` : ''} ${d.sha ? html`<code>${d.sha.slice(0, 7)}</code>` : ''}</td><td>${d.state ? stateBadge(d.state) : '—'}</td><td>${d.allowed ? 'allowed' : 'blocked'}</td><td>${d.headline}</td></tr>`,
)}</tbody></table>`
}
<h2>Overrides and reverts</h2>
${h.audit_note ? html`<p class="note" data-audit-note>${h.audit_note}</p>` : ''}
${
  audit.length === 0
    ? html`<p class="note">No override or revert has passed a pause.</p>`
    : html`<table class="audit"><thead><tr><th scope="col">#</th><th scope="col">when</th><th scope="col">what</th><th scope="col">change</th><th scope="col">reason</th><th scope="col">by</th><th scope="col">author</th><th scope="col">state then</th><th scope="col">record</th></tr></thead><tbody>
${audit.map(
  (r) =>
    html`<tr data-kind="${r.kind}"><td>${r.seq}</td><td>${time(r.at)}</td><td>${KIND[r.kind]}</td><td>${r.pull_request !== null ? `#${r.pull_request}` : ''} <code>${r.label}</code></td><td>${r.reason ?? '—'}</td><td>${r.actor ? `@${r.actor}` : '—'}</td><td>${r.author ? `@${r.author}` : '—'}</td><td>${r.state ? STATE_LABEL[r.state] : '—'}</td><td>${r.message}</td></tr>`,
)}</tbody></table>`
}
<h2>Incidents</h2>
${
  incidents.length === 0
    ? html`<p class="note">No incident.</p>`
    : incidents.map(
        (i) => html`<section class="incident" data-incident="${i.id}">
<h3>${i.severity} · ${i.alert} on ${i.slo}${i.issue_number !== null ? html` · issue #${i.issue_number}` : ''}</h3>
<p>Opened ${time(i.opened_at)}; ${i.resolved_at ? html`resolved ${time(i.resolved_at)}` : html`<strong>open</strong>`}${i.acknowledged_by ? html`; acknowledged by @${i.acknowledged_by}` : '; not acknowledged'}.</p>
<ol class="timeline">${i.timeline.map((e) => html`<li>${time(e.at)} <strong>${e.kind}</strong> ${e.text}</li>`)}</ol>
</section>`,
      )
}`;
  return layout(ctx, `${repo} · history`, body);
}
