import { burn, pct } from '../../report/format.ts';
import { stateBadge } from '../decision-html.ts';
import { type Html, html, time } from '../html.ts';
import type { FleetRow } from '../ports.ts';
import { layout, type PageContext, repoPath } from './layout.ts';

// Every repository and environment the viewer may read, worst first; any column sorts, by a link
// (no script): `?sort=burn&dir=desc`.

const SEVERITY = { 'hard-pause': 2, 'soft-pause': 1, ship: 0 } as const;

const SORT_KEYS = ['repo', 'environment', 'state', 'worst', 'remaining', 'burn', 'alerts'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type Direction = 'asc' | 'desc';

const nullsLast = (a: number | null, b: number | null, dir: number) =>
  a === null ? (b === null ? 0 : 1) : b === null ? -1 : (a - b) * dir;

function compare(key: SortKey, dir: Direction): (a: FleetRow, b: FleetRow) => number {
  const d = dir === 'asc' ? 1 : -1;
  const text = (x: string, y: string) => (x < y ? -d : x > y ? d : 0);
  switch (key) {
    case 'repo':
      return (a, b) => text(a.repo, b.repo) || text(a.environment, b.environment);
    case 'environment':
      return (a, b) => text(a.environment, b.environment) || text(a.repo, b.repo);
    case 'state':
      return (a, b) =>
        (SEVERITY[a.state] - SEVERITY[b.state]) * d ||
        nullsLast(a.remaining, b.remaining, 1) ||
        a.repo.localeCompare(b.repo);
    case 'worst':
      return (a, b) => text(a.worst_slo ?? '', b.worst_slo ?? '') || text(a.repo, b.repo);
    case 'remaining':
      return (a, b) => nullsLast(a.remaining, b.remaining, d) || text(a.repo, b.repo);
    case 'burn':
      return (a, b) => nullsLast(a.burn, b.burn, d) || text(a.repo, b.repo);
    case 'alerts':
      return (a, b) => (a.alerts - b.alerts) * d || text(a.repo, b.repo);
  }
}

/** The sort a query asks for; anything unknown falls back to worst first. */
export function readSort(query: URLSearchParams): { key: SortKey; dir: Direction } {
  const key = (SORT_KEYS as readonly string[]).includes(query.get('sort') ?? '')
    ? (query.get('sort') as SortKey)
    : 'state';
  const dir =
    query.get('dir') === 'asc'
      ? 'asc'
      : query.get('dir') === 'desc'
        ? 'desc'
        : key === 'state'
          ? 'desc'
          : 'asc';
  return { key, dir };
}

export function sortFleet(rows: FleetRow[], key: SortKey, dir: Direction): FleetRow[] {
  return [...rows].sort(compare(key, dir));
}

const COLUMNS: { key: SortKey; label: string; num?: boolean }[] = [
  { key: 'repo', label: 'Repository' },
  { key: 'environment', label: 'Environment' },
  { key: 'state', label: 'State' },
  { key: 'worst', label: 'Worst SLO' },
  { key: 'remaining', label: 'Budget left', num: true },
  { key: 'burn', label: 'Burn', num: true },
  { key: 'alerts', label: 'Alerts firing', num: true },
];

export function fleetPage(ctx: PageContext, rows: FleetRow[], sort: { key: SortKey; dir: Direction }): Html {
  const sorted = sortFleet(rows, sort.key, sort.dir);
  const head = COLUMNS.map((c) => {
    const on = c.key === sort.key;
    const next: Direction = on ? (sort.dir === 'asc' ? 'desc' : 'asc') : c.key === 'state' ? 'desc' : 'asc';
    const ariaSort = on ? (sort.dir === 'asc' ? 'ascending' : 'descending') : null;
    return html`<th scope="col"${c.num ? html` class="num"` : ''}${ariaSort ? html` aria-sort="${ariaSort}"` : ''}><a href="${ctx.base}/?sort=${c.key}&amp;dir=${next}">${c.label}${on ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}</a></th>`;
  });
  const counts = { ship: 0, 'soft-pause': 0, 'hard-pause': 0 };
  for (const r of rows) counts[r.state]++;
  const body = html`<h1>Fleet</h1>
<p class="summary">${rows.length} repository environments: <strong>${counts['hard-pause']}</strong> in hard pause, <strong>${counts['soft-pause']}</strong> in soft pause, <strong>${counts.ship}</strong> shipping.</p>
${
  rows.length === 0
    ? html`<p class="note">No repository you can read has been evaluated yet.</p>`
    : html`<table class="fleet"><thead><tr>${head}</tr></thead><tbody>
${sorted.map(
  (
    r,
  ) => html`<tr data-repo="${r.repo}" data-environment="${r.environment}"><th scope="row"><a href="${repoPath(ctx, r.repo)}">${r.repo}</a></th><td>${r.environment}</td><td>${stateBadge(r.state)}</td><td>${r.worst_slo ?? '—'}</td><td class="num">${pct(r.remaining)}</td><td class="num">${burn(r.burn)}</td><td class="num">${r.alerts}</td></tr>
`,
)}</tbody></table>
<p class="note">Budget left and burn are the worst SLO's; burn is over its pace lookback (1d). Last evaluated ${time(
        sorted
          .map((r) => r.evaluated_at)
          .sort()
          .at(-1) ?? null,
      )}.</p>`
}`;
  return layout(ctx, 'Fleet', body);
}
