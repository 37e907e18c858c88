import type { GitHubClient } from '../github/octokit.ts';
import { branchHead, readinessFiles, touchesReadiness } from '../github/readiness-files.ts';
import { checkMembers } from '../github/readiness-members.ts';
import { assessReadiness, type Readiness } from '../policy/readiness/verdict.ts';
import { DEFAULT_POLICY_PATH } from '../policy/spec/load.ts';
import type { Policy } from '../policy/spec/schema.ts';
import type { SqlIncidentStore } from '../store/incidents.ts';
import { incidentEvidence, READINESS_HISTORY_MS, type SqlReadinessStore } from '../store/readiness.ts';
import type { RepoRow } from '../store/repos.ts';
import { readDueRepos } from './due-repos.ts';
import type { BotLog } from './log.ts';
import { PolicyCache } from './policy-cache.ts';

// Each repository's readiness verdict (src/policy/readiness/verdict.ts: the five gates), worked out
// from its default branch and kept in the store for the dashboard's on-call page. The files the
// gates judge (runbooks, drill records, postmortems) are read through the REST API at the branch's
// head commit, in a loop of its own, as audit-sync.ts reads the audit log:
// - once every `revalidateMs` (default 1 h) per repository, the branch head read conditionally:
//   unchanged is a 304, which costs no rate limit, and nothing else is asked;
// - after a push to the default branch (the `push` webhook marks the verdict stale);
// - when the head moved, one compare request says whether the commits since the judged one touch
//   what readiness reads (the policy, the runbooks, the drills and postmortems folders); if not,
//   the verdict stands at the new commit;
// - only when they do are the files read (contents API at that commit), the members
//   checked (GET /users/{login}, and team memberships when oncall.teams is set) and the verdict
//   computed again with the store's incidents as evidence (acknowledgements, firing counts); so
//   also once a day (`recomputeMs`) at the same commit, as the gates depend on the time as well.
// Each read is claimed first (a guarded UPDATE in the store), so two replicas read a repository once.
// A refused call (403, 5xx, a file over 1 MB) keeps the verdict stored before and records the error;
// a refused member check is not an error: that member is "unverified" and the on-call gate says so.

export interface ReadinessSyncOptions {
  readiness: Pick<SqlReadinessStore, 'all' | 'claim' | 'checked' | 'save' | 'moved'>;
  incidents: Pick<SqlIncidentStore, 'between'>;
  log: BotLog;
  policyPath?: string;
  revalidateMs?: number;
  /** How long a claim holds (a replica that dies mid-read frees the repository after it). */
  claimMs?: number;
  /** Repositories read (not merely looked at) per round at most: the rest wait for the next. */
  maxReads?: number;
  /** How recent an acknowledgement must be. */
  ackWithinMs?: number;
  /**
   * A verdict older than this is worked out again even when the branch did not move: its gates
   * also depend on the time (who is on call, how recent the drills and acknowledgements are).
   */
  recomputeMs?: number;
}

export interface ReadinessRound {
  looked: number;
  computed: number;
  unchanged: number;
  failed: number;
  requests: number;
}

type ReadinessRepo = Pick<
  RepoRow,
  | 'full_name'
  | 'owner'
  | 'repo'
  | 'installation_id'
  | 'default_branch'
  | 'active'
  | 'policy_status'
  | 'policy_text'
>;
type ReadinessState = Awaited<ReturnType<SqlReadinessStore['all']>>[number];

export class ReadinessSync {
  private readonly o: Required<ReadinessSyncOptions>;
  private readonly policies = new PolicyCache();
  constructor(o: ReadinessSyncOptions) {
    this.o = {
      revalidateMs: 3_600_000,
      claimMs: 300_000,
      maxReads: 100,
      ackWithinMs: 28 * 86_400_000,
      recomputeMs: 86_400_000,
      policyPath: DEFAULT_POLICY_PATH,
      ...o,
    };
  }

  async round(
    repos: readonly ReadinessRepo[],
    auth: (installationId: number) => Promise<GitHubClient>,
    now: number,
  ): Promise<ReadinessRound> {
    const out: ReadinessRound = { looked: 0, computed: 0, unchanged: 0, failed: 0, requests: 0 };
    const { looked } = await readDueRepos({
      repos,
      policies: this.policies,
      policyPath: this.o.policyPath,
      states: new Map((await this.o.readiness.all()).map((s) => [s.repo, s])),
      due: (s) =>
        !s ||
        s.stale ||
        s.checked_at === null ||
        s.verdict === null ||
        now - s.checked_at >= this.o.revalidateMs,
      maxReads: this.o.maxReads,
      claim: (r) => this.o.readiness.claim(r.full_name, now, this.o.claimMs),
      read: (r, policy, s) => this.read(r, policy, s, auth, now, out),
    });
    out.looked = looked;
    return out;
  }

  /** One repository's read, claimed already: revalidated, moved or worked out again. */
  private async read(
    r: ReadinessRepo,
    policy: Policy,
    s: ReadinessState | null,
    auth: (installationId: number) => Promise<GitHubClient>,
    now: number,
    out: ReadinessRound,
  ): Promise<void> {
    const ref = { owner: r.owner, repo: r.repo };
    // A stored verdict without an error is revalidated conditionally; otherwise read in full.
    const etag = s?.verdict && !s.error ? s.head_etag : null;
    try {
      const gh = await auth(r.installation_id);
      out.requests++;
      const head = await branchHead(gh, ref, r.default_branch, etag);
      const same = head.kind === 'unchanged' || (head.sha === s?.commit_sha && !!s.verdict && !s.error);
      const fresh = s?.computed_at != null && now - s.computed_at < this.o.recomputeMs;
      const headEtag = head.kind === 'head' ? head.etag : etag;
      if (same && fresh) {
        await this.o.readiness.checked(r.full_name, headEtag, now, null);
        out.unchanged++;
        return;
      }
      // The branch moved: when the commits since the one judged touch none of what readiness
      // reads (one compare request), the verdict stands at the new commit.
      if (head.kind === 'head' && fresh && s?.commit_sha && s.verdict && !s.error) {
        out.requests++;
        const base = s.commit_sha;
        if (!(await touchesReadiness(gh, ref, base, head.sha, policy, this.o.policyPath))) {
          await this.o.readiness.moved(r.full_name, head.sha, head.etag, now);
          out.unchanged++;
          return;
        }
      }
      // The branch moved, or the verdict is a day old (its gates depend on the time too).
      const sha = head.kind === 'head' ? head.sha : s!.commit_sha!;
      const { verdict, requests } = await this.compute(gh, r, sha, now);
      out.requests += requests;
      await this.o.readiness.save(r.full_name, JSON.stringify(verdict), sha, headEtag, now);
      out.computed++;
    } catch (e) {
      const error = (e as Error).message;
      this.o.log.warn(`${r.full_name}: readiness not worked out: ${error}`);
      await this.o.readiness.checked(r.full_name, s?.head_etag ?? null, now, error);
      out.failed++;
    }
  }

  /** The verdict at commit `sha` (the policy read there too), with the GitHub calls it took. */
  async compute(
    gh: GitHubClient,
    r: Pick<RepoRow, 'full_name' | 'owner' | 'repo'>,
    sha: string,
    now: number,
  ): Promise<{ verdict: Readiness; requests: number }> {
    const ref = { owner: r.owner, repo: r.repo };
    const { files, policy, requests } = await readinessFiles(gh, ref, sha, this.o.policyPath);
    let calls = 0;
    const counted: GitHubClient = {
      request: ((route: string, params?: object) => {
        calls++;
        return gh.request(route as never, params as never);
      }) as unknown as GitHubClient['request'],
    };
    const members = policy ? await checkMembers(counted, policy, r.owner) : 'no policy to read members from';
    const found = incidentEvidence(
      await this.o.incidents.between(r.full_name, now - READINESS_HISTORY_MS, now),
      now,
      false,
    );
    const verdict = assessReadiness(files, this.o.policyPath, now, {
      members,
      acks: found.acks,
      firing: found.firing,
      ackWithinMs: this.o.ackWithinMs,
    });
    return { verdict, requests: requests + calls };
  }
}
