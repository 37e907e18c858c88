import { type Html, html, time } from '../html.ts';
import type { OncallView, RepoName } from '../ports.ts';
import { layout, type PageContext, tabs } from './layout.ts';

// Who is woken now, who takes over next and when, the escalation path, and whether the
// repository is ready for unattended traffic (the readiness verdict and its five gates).

export function oncallPage(ctx: PageContext, repo: RepoName, o: OncallView): Html {
  const r = o.readiness;
  const body = html`${tabs(ctx, repo, 'oncall')}
<h2>On call now</h2>
${
  o.now
    ? html`<p class="oncall-now">Primary <strong data-role="primary">@${o.now.primary}</strong>${o.now.secondary ? html`, secondary <strong data-role="secondary">@${o.now.secondary}</strong>` : ''}, since ${time(o.now.starts)} (rotation zone ${o.zone}).</p>`
    : html`<p class="note">The policy has no rotation: reverts request review from its reviewers.</p>`
}
${o.next ? html`<p class="handoff">Next handoff ${time(o.next.at)} to <strong data-role="next">@${o.next.primary}</strong>${o.next.secondary ? html` (secondary @${o.next.secondary})` : ''}.</p>` : ''}
<p>Acknowledge within <strong>${o.ack}</strong>.</p>
${
  o.escalation.length > 0
    ? html`<h3>Escalation</h3><ol class="escalation">${o.escalation.map((e) => html`<li>@${e.login} (${e.role}) after ${e.after_minutes} min</li>`)}</ol>`
    : ''
}
<h2>Readiness</h2>
${
  r
    ? html`<p class="readiness"><strong data-verdict="${r.verdict}">${r.verdict}</strong> — ${r.score} of 5 gates pass.</p>
<table class="gates"><thead><tr><th scope="col">gate</th><th scope="col">passed</th><th scope="col">evidence</th><th scope="col">missing</th></tr></thead><tbody>
${r.gates.map(
  (g) =>
    html`<tr data-gate="${g.id}"><th scope="row">${g.title}</th><td>${g.passed ? 'yes' : 'no'}</td><td>${g.evidence.map((e) => html`<div>${e}</div>`)}</td><td>${g.missing.map((m) => html`<div>${m}</div>`)}${g.passed ? '' : html`<div class="note">${g.why}</div>`}</td></tr>`,
)}</tbody></table>`
    : html`<p class="note">No readiness verdict stored.</p>`
}`;
  return layout(ctx, `${repo} · on-call`, body);
}
