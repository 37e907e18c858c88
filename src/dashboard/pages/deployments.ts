import { burn, pct } from '../../report/format.ts';
import { evidenceChart } from '../charts.ts';
import { type Html, html, time, trusted } from '../html.ts';
import type { RepoName, WatchView } from '../ports.ts';
import { layout, type PageContext, tabs } from './layout.ts';

// Each watched deployment: the canary judge's evidence minute by minute, the bounds it drew and
// the line it tested them against, its verdict, and the revert pull request it opened.

const ratio = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);

function watch(w: WatchView): Html {
  const chart = evidenceChart(w.evidence);
  return html`<section class="watch" data-deployment="${w.deployment_id}">
<h2>Deployment ${w.deployment_id} · <code>${w.sha.slice(0, 7)}</code> to ${w.environment}</h2>
<p>${w.pull_number !== null ? html`#${w.pull_number} ${w.pull_title ?? ''} · ` : ''}live ${time(w.deployed_at)} · <strong data-verdict="${w.status}">${w.status}</strong>${w.revert_pr !== null ? html` · revert pull request <strong>#${w.revert_pr}</strong>` : ''}</p>
${w.reason ? html`<p class="reason">${w.reason}</p>` : ''}
<p class="note">${w.slo ? html`SLO <strong>${w.slo}</strong>, ` : ''}rule <code>${w.rule ?? 'auto_revert'}</code>${w.confidence !== null ? html` at ${pct(w.confidence)} confidence` : ''}.</p>
${chart ? html`<figure class="chart" data-chart="evidence">${trusted(chart)}<figcaption>Bounds on the burn this deployment adds beyond its baseline, minute by minute, against the revert line.</figcaption></figure>` : html`<p class="note">No evidence recorded yet.</p>`}
${
  w.evidence.length > 0
    ? html`<details><summary>${w.evidence.length} minutes of evidence</summary><table class="evidence"><thead><tr><th scope="col">minute</th><th scope="col" class="num">before (bad ratio)</th><th scope="col" class="num">after (bad ratio)</th><th scope="col" class="num">tasks after</th><th scope="col" class="num">bounds</th><th scope="col" class="num">line</th><th scope="col">status</th></tr></thead><tbody>
${w.evidence.map(
  (m) =>
    html`<tr><td>${time(m.at)}</td><td class="num">${ratio(m.before_ratio)}</td><td class="num">${ratio(m.after_ratio)}</td><td class="num">${m.after_events ?? '—'}${m.after_bad !== null ? html` (${m.after_bad} bad)` : ''}</td><td class="num">${burn(m.burn_low)} – ${burn(m.burn_high)}</td><td class="num">${burn(m.line_burn)}</td><td>${m.status}</td></tr>`,
)}</tbody></table></details>`
    : ''
}
</section>`;
}

export function deploymentsPage(ctx: PageContext, repo: RepoName, watches: WatchView[]): Html {
  const sorted = [...watches].sort((a, b) => b.deployed_at.localeCompare(a.deployed_at));
  return layout(
    ctx,
    `${repo} · deployments`,
    html`${tabs(ctx, repo, 'deployments')}
${sorted.length === 0 ? html`<p class="note">No deployment has been watched.</p>` : sorted.map(watch)}`,
  );
}
