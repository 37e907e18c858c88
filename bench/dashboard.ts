import { request } from 'node:http';
import type { DashboardStore } from '../src/dashboard/ports.ts';
import type { Access } from '../src/dashboard/server.ts';
import { SqlDashboardStore } from '../src/dashboard/sql-store.ts';
import { SqliteWatchStore } from '../src/store/sqlite.ts';
import { FLEET_AT, fakeFleet, repoName } from '../test/support/dashboard-fleet.ts';
import { serveDashboard } from '../test/support/dashboard-server.ts';
import { fillSqlStore } from '../test/support/dashboard-sql.ts';
import { type Figure, median, quantile } from './lib/report.ts';

// 6. Dashboard pages: 1,000 repositories in an in-memory implementation of the dashboard's port,
// then in the bot's own store (SQLite, filled through its write paths: a month of hourly
// evaluations for the repositories sampled, a day for the rest, decisions, pull requests, the
// audit log, incidents, watches with their evidence), the handler on a loopback server, a viewer
// allowed to read all of them (the access check is a set lookup, as after sign-in). Warm = the
// page was served once before, as every page people keep open is; a repository's first view draws
// its charts and is reported apart.

const KINDS = ['fleet', 'repository', 'deployments', 'history', 'oncall'] as const;
type Kind = (typeof KINDS)[number];

function get(url: string): Promise<number> {
  return new Promise((ok, fail) => {
    const t0 = performance.now();
    request(url, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? ok(performance.now() - t0) : fail(new Error(`${url}: ${res.statusCode}`)),
      );
    })
      .on('error', fail)
      .end();
  });
}

export async function dashboardPages(repos: number, samples: number): Promise<Figure[]> {
  return measurePages(fakeFleet(repos), 'memory', repos, samples);
}

export async function dashboardSqlPages(repos: number, samples: number): Promise<Figure[]> {
  const sql = new SqliteWatchStore(':memory:');
  const t0 = performance.now();
  await fillSqlStore(sql, repos, { hours: (i) => (i < 100 ? 30 * 24 : 24) });
  const filled = performance.now() - t0;
  try {
    const figures = await measurePages(
      new SqlDashboardStore(sql, { policyPath: '.github/error-budget.yml', clock: () => FLEET_AT }),
      'SQLite store',
      repos,
      samples,
    );
    return [
      {
        bench: 'dashboard',
        metric: `SQLite store filled (${repos.toLocaleString('en-US')} repositories, 100 with 720 hourly evaluations)`,
        value: filled / 1000,
        unit: 's',
      },
      ...figures,
    ];
  } finally {
    await sql.close();
  }
}

async function measurePages(
  store: DashboardStore,
  label: string,
  repos: number,
  samples: number,
): Promise<Figure[]> {
  const names = new Set(Array.from({ length: repos }, (_, i) => repoName(i)));
  const access: Access = {
    route: async () => false,
    viewer: async () => ({ viewer: { login: 'bench', csrf: 'x' }, canRead: (r) => names.has(r) }),
  };
  const server = await serveDashboard({ store, access, base: '/dashboard' });
  const path = (kind: Kind, i: number) =>
    kind === 'fleet'
      ? '/dashboard/?sort=burn&dir=desc'
      : `/dashboard/r/${repoName(i)}${kind === 'repository' ? '' : `/${kind}`}`;
  const figures: Figure[] = [];
  try {
    // First views: every chart of these repositories is drawn now.
    const firstViews: number[] = [];
    const warmSet = Math.min(repos, 100);
    for (let i = 0; i < warmSet; i++) firstViews.push(await get(`${server.url}${path('repository', i)}`));
    for (let i = 0; i < warmSet; i++) await get(`${server.url}${path('deployments', i)}`);
    await get(`${server.url}${path('fleet', 0)}`);
    figures.push({
      bench: 'dashboard',
      metric: `${label}: repository page, first view (charts drawn), p95 of ${warmSet}`,
      value: quantile(firstViews, 0.95),
      unit: 'ms',
    });
    for (const kind of KINDS) {
      const times: number[] = [];
      for (let k = 0; k < samples; k++)
        times.push(await get(`${server.url}${path(kind, (k * 7919) % warmSet)}`));
      const p95 = quantile(times, 0.95);
      figures.push({
        bench: 'dashboard',
        metric: `${label}: ${kind} page, warm, p95 of ${samples} (${repos.toLocaleString('en-US')} repositories)`,
        value: p95,
        unit: 'ms',
        target: '< 200 ms',
        met: p95 < 200,
        note: `median ${median(times).toFixed(1)} ms`,
      });
    }
  } finally {
    await server.close();
  }
  return figures;
}
