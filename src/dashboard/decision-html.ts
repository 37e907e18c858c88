import type { Decision } from '../policy/gate/decision-schema.ts';
import { STATE_LABEL, verdict, when } from '../report/format.ts';
import { renderHeadline } from '../report/headline.ts';
import { sloRows } from '../report/table.ts';
import { type Html, html } from './html.ts';

// The decision as the job summary says it (src/report/markdown.ts), in HTML: the same headline,
// the same reasons with their rules, the same actions and the same SLO table, from the same
// functions, so a page and a check run never tell two stories.

export function stateBadge(state: Decision['state']): Html {
  return html`<span class="state state-${state}">${STATE_LABEL[state]}</span>`;
}

export function decisionHtml(d: Decision): Html {
  const { header, rows } = sloRows(d);
  return html`<section class="decision" aria-label="decision">
<h3>${stateBadge(d.state)} — ${verdict(d)}</h3>
<p class="headline">${renderHeadline(d)}</p>
<h4>Why</h4>
<ul class="reasons">${d.reasons.map((r) => html`<li>${r.message}${r.rule ? html` (<code>${r.rule}</code>)` : ''}</li>`)}</ul>
${
  d.actions.length > 0
    ? html`<h4>What you can do</h4><ul class="actions">${d.actions.map((a) => html`<li>${a}</li>`)}</ul>`
    : ''
}
${
  d.override
    ? html`<p><strong>Override:</strong> <code>${d.override.label}</code> applied by @${d.override.applied_by} at ${when(d.override.applied_at)}; expires ${when(d.override.expires_at)}. Written to the audit log.</p>`
    : ''
}
${
  d.override_refusals.length > 0
    ? html`<h4>Override labels refused</h4><ul>${d.override_refusals.map((r) => html`<li><code>${r.label}</code>: ${r.message}</li>`)}</ul>`
    : ''
}
${
  d.slos.length > 0
    ? html`<table class="slos"><thead><tr>${header.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((c, i) => (i === 0 ? html`<th scope="row">${c}</th>` : html`<td>${c}</td>`))}</tr>`)}</tbody></table>`
    : ''
}
${d.warnings.length > 0 ? html`<h4>Warnings</h4><ul>${d.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}
</section>`;
}
