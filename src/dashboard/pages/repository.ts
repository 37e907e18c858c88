import { burn, pct, projectionLine } from '../../report/format.ts';
import { budgetChart, burnChart, trendChart } from '../charts.ts';
import { decisionHtml, stateBadge } from '../decision-html.ts';
import { type Html, html, time, trusted } from '../html.ts';
import type { RepositoryView } from '../ports.ts';
import { layout, type PageContext, tabs } from './layout.ts';

// A repository: what the gate holds now and why (the job summary's words), each SLO's budget over
// its window and its burn in every alert window, the alerts firing, and the pull requests held.

export function repositoryPage(ctx: PageContext, v: RepositoryView): Html {
  const d = v.decision;
  const { soft_pause: soft, hard_pause: hard } = d.thresholds;
  const slos = d.slos.map((slo) => {
    const budget = budgetChart(slo, soft, hard);
    const burns = burnChart(slo, v.alert_windows);
    const trend = v.trend?.find((t) => t.slo === slo.name);
    const history = trend ? trendChart(trend, soft, hard) : null;
    return html`<section class="slo" data-slo="${slo.name}">
<h2>${slo.name} ${stateBadge(slo.state)}</h2>
<p><span data-figure="consumed">${pct(slo.consumed)}</span> of the ${slo.window} budget consumed, <span data-figure="remaining">${pct(slo.remaining)}</span> left; ${projectionLine(slo, d.evaluated_at)}.</p>
<div class="charts">
${budget ? html`<figure class="chart" data-chart="budget">${trusted(budget)}<figcaption>Budget consumed over the ${slo.window} window; dashed: soft pause at ${pct(soft)}, hard pause at ${pct(hard)}.</figcaption></figure>` : html`<p class="note">No series to draw: too little telemetry.</p>`}
${burns ? html`<figure class="chart" data-chart="burn">${trusted(burns)}<figcaption>Burn rate over each alert's long and short window; the orange mark is the rate that fires it.</figcaption></figure>` : ''}
${history && trend ? html`<figure class="chart" data-chart="trend" data-points="${trend.points.length}">${trusted(history)}<figcaption>As each stored evaluation found it, ${time(trend.points[0]!.at)} to ${time(trend.points.at(-1)!.at)}: budget consumed over the ${slo.window} window (left) and the burn over ${trend.lookback} (right, purple).</figcaption></figure>` : ''}
</div>
${trend && !history ? html`<p class="note">The history of this SLO builds up as the bot evaluates it: ${trend.points.length} evaluation stored so far.</p>` : ''}
<table class="burns"><thead><tr><th scope="col">alert</th><th scope="col">severity</th><th scope="col" class="num">long</th><th scope="col" class="num">short</th><th scope="col" class="num">fires at</th></tr></thead><tbody>
${v.alert_windows.map(
  (a) =>
    html`<tr><th scope="row">${a.name}</th><td>${a.severity} ${a.action}</td><td class="num">${burn(slo.burn_rates[a.long])} over ${a.long}</td><td class="num">${burn(slo.burn_rates[a.short])} over ${a.short}</td><td class="num">${a.burn_rate}x</td></tr>`,
)}
</tbody></table>
</section>`;
  });
  const alerts =
    d.alerts.length === 0
      ? html`<p class="note" data-alerts="0">No alert is firing.</p>`
      : html`<table class="alerts" data-alerts="${d.alerts.length}"><thead><tr><th scope="col">severity</th><th scope="col">alert</th><th scope="col">SLO</th><th scope="col">burn</th><th scope="col">action</th><th scope="col">runbook</th></tr></thead><tbody>
${d.alerts.map(
  (a) =>
    html`<tr><td>${a.severity}</td><th scope="row">${a.name}</th><td>${a.slo}</td><td>${a.long_burn.toFixed(1)}x over ${a.long}, ${a.short_burn.toFixed(1)}x over ${a.short} (≥ ${a.burn_rate}x)</td><td>${a.action}</td><td>${a.runbook ? (/^https:\/\//.test(a.runbook) ? html`<a href="${a.runbook}" rel="noreferrer">${a.runbook}</a>` : html`<code>${a.runbook}</code>`) : '—'}</td></tr>`,
)}</tbody></table>`;
  const held =
    v.held.length === 0
      ? html`<p class="note">No open pull request is held.</p>`
      : html`<table class="held"><thead><tr><th scope="col">pull request</th><th scope="col">author</th><th scope="col">held since</th><th scope="col">gate</th></tr></thead><tbody>
${v.held.map((p) => html`<tr><th scope="row">#${p.number} ${p.title}</th><td>${p.author ? `@${p.author}` : '—'}</td><td>${time(p.since)}</td><td>${p.headline}</td></tr>`)}</tbody></table>`;
  const body = html`${tabs(ctx, v.repo, 'repository')}
<p>Environment <strong>${v.environment}</strong>, evaluated ${time(d.evaluated_at)} from ${v.source}.</p>
<div class="panel">${decisionHtml(d)}</div>
<h2>Alerts firing</h2>
${alerts}
${slos}
<h2>Pull requests held</h2>
${held}`;
  return layout(ctx, v.repo, body);
}
