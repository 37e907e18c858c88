import { z } from 'zod';
import type { GitHubClient } from '../github/octokit.ts';
import { collectPages } from '../github/paginate.ts';
import { parseReply } from '../github/reply.ts';
import type { InstalledRepo } from '../store/repos.ts';
import type { BotLog } from './log.ts';

// Which repositories the always-on service evaluates: every repository of every installation of
// the App, as GitHub lists them (app JWT: GET /app/installations; each installation's token:
// GET /installation/repositories). Asked at start and periodically, and again when an
// `installation` or `installation_repositories` webhook says the list changed. Cost: one request
// per 100 installations, plus one per 100 repositories of each. One replica of the fleet runs it
// per interval, under the `discovery` lease (leased-task.ts); `held` says when that lease is lost
// or the replica stops, and the run ends before the next installation.

const installationSchema = z.object({ id: z.number(), suspended_at: z.string().nullable().optional() });
const repoSchema = z.object({
  name: z.string(),
  owner: z.object({ login: z.string() }),
  default_branch: z.string(),
  archived: z.boolean().optional(),
});
const reposPageSchema = z.object({ repositories: z.array(repoSchema) });

/** The name of discovery's row in the store's `leases`. */
export const DISCOVERY_LEASE = 'discovery';

export interface Discovery {
  installations: number;
  repos: number;
  /** Installations whose repositories were listed and stored (fewer when the run was cut short). */
  synced: number;
  /** The run ended early: the lease was lost or the replica is stopping. */
  interrupted: boolean;
}

export interface DiscoverDeps {
  app: GitHubClient;
  installation: (id: number) => Promise<GitHubClient>;
  sync: (installationId: number, repos: InstalledRepo[]) => Promise<void>;
  log: BotLog;
  /** False once this replica may no longer run discovery (the lease lost, a shutdown). */
  held?: () => boolean;
}

/** The repositories of one installation; archived ones are left out (nothing ships from them). */
export async function installationRepos(gh: GitHubClient, installationId: number): Promise<InstalledRepo[]> {
  const { items } = await collectPages(async (page) => {
    const res = await gh.request('GET /installation/repositories', { per_page: 100, page });
    const data = parseReply(reposPageSchema, res.data, 'GET /installation/repositories');
    return { data: data.repositories, headers: res.headers };
  }, 100_000);
  return items
    .filter((r) => !r.archived)
    .map((r) => ({
      owner: r.owner.login,
      repo: r.name,
      installation_id: installationId,
      default_branch: r.default_branch,
    }));
}

export async function discover(d: DiscoverDeps): Promise<Discovery> {
  const { items } = await collectPages(async (page) => {
    const res = await d.app.request('GET /app/installations', { per_page: 100, page });
    return {
      data: parseReply(z.array(installationSchema), res.data, 'GET /app/installations'),
      headers: res.headers,
    };
  }, 100_000);
  let repos = 0;
  let synced = 0;
  for (const inst of items) {
    if (d.held && !d.held()) {
      d.log.warn(
        `discovery: stopped after ${synced} of ${items.length} installations (the lease was lost or the bot is stopping)`,
      );
      return { installations: items.length, repos, synced, interrupted: true };
    }
    try {
      // A suspended installation's token is refused: its repositories go inactive.
      const list = inst.suspended_at ? [] : await installationRepos(await d.installation(inst.id), inst.id);
      await d.sync(inst.id, list);
      repos += list.length;
      synced++;
    } catch (e) {
      d.log.warn(
        `installation ${inst.id}: repositories not listed, kept as they were: ${(e as Error).message}`,
      );
    }
  }
  return { installations: items.length, repos, synced, interrupted: false };
}
