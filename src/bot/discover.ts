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
// per 100 installations, plus one per 100 repositories of each.

const installationSchema = z.object({ id: z.number(), suspended_at: z.string().nullable().optional() });
const repoSchema = z.object({
  name: z.string(),
  owner: z.object({ login: z.string() }),
  default_branch: z.string(),
  archived: z.boolean().optional(),
});
const reposPageSchema = z.object({ repositories: z.array(repoSchema) });

export interface Discovery {
  installations: number;
  repos: number;
}

export interface DiscoverDeps {
  app: GitHubClient;
  installation: (id: number) => Promise<GitHubClient>;
  sync: (installationId: number, repos: InstalledRepo[]) => Promise<void>;
  log: BotLog;
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
  for (const inst of items) {
    try {
      // A suspended installation's token is refused: its repositories go inactive.
      const list = inst.suspended_at ? [] : await installationRepos(await d.installation(inst.id), inst.id);
      await d.sync(inst.id, list);
      repos += list.length;
    } catch (e) {
      d.log.warn(
        `installation ${inst.id}: repositories not listed, kept as they were: ${(e as Error).message}`,
      );
    }
  }
  return { installations: items.length, repos };
}
