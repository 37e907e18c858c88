import { createHash, createHmac, randomUUID } from 'node:crypto';
import { type FakeGitHub, type Recorded, type Reply, startGitHub } from '../../support/github-server.ts';
import { OLD_MODEL, OLD_REFUND, SHIPPED_COMPARE, TIP, TIP_TREE } from '../revert-nock.ts';
import {
  DEPLOYED_SHA,
  DEPLOYMENT_ID,
  gitBlobSha,
  POLICY_TEXT,
  PREVIOUS_ID,
  PREVIOUS_SHA,
  SHIPPED_PR,
} from '../support.ts';

// GitHub as a bot process sees it, with state: the repository of revert-nock.ts (the deployment
// changed three files, the default branch moved on by one commit), plus what the bot writes —
// refs, git objects, pull requests with their labels, reviewers and auto-merge, deployment statuses,
// comments — and the App's side: installation tokens, webhook deliveries to the bot (signed, as
// GitHub sends them), the deliveries API and redelivery. Writes behave as GitHub's do: a second ref
// of the same name is a 422, a second pull request for a head is a 422, a second status or comment
// is a second one. `snapshot()` is what the crash tests compare.

export const WEBHOOK_SECRET = 'crash-test-secret';
export const FIRST_PR = 99;

interface Pull {
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
  node_id: string;
  html_url: string;
  labels: Set<string>;
  reviewers: Set<string>;
  team_reviewers: Set<string>;
  auto_merge: boolean;
}

interface Delivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
  payload: unknown;
}

const sha = (x: unknown) => createHash('sha1').update(JSON.stringify(x)).digest('hex');
const repoPath = '/repos/:owner/:repo';

export interface FakeApp {
  gh: FakeGitHub;
  /** Where the bot listens for webhooks; set once the bot's port is known. */
  webhookUrl: string;
  /** Sends a webhook as GitHub would and records the delivery; resolves with the HTTP status (0: failed). */
  deliver(
    event: string,
    payload: Record<string, unknown>,
    guid?: string,
    redelivery?: boolean,
  ): Promise<number>;
  deliveries: Delivery[];
  /** Requests the bot made to the repository API (not the App's own endpoints), in order. */
  repoRequests(): Recorded[];
  snapshot(): unknown;
  close(): Promise<void>;
}

export async function startFakeApp(): Promise<FakeApp> {
  const gh = await startGitHub();
  const refs = new Map<string, string>([['refs/heads/master', TIP]]);
  const pulls: Pull[] = [];
  const statuses = new Map<
    number,
    Array<{ state: string; description: string; log_url?: string; environment: string }>
  >([
    [DEPLOYMENT_ID, [{ state: 'success', description: 'Deployed', environment: 'production' }]],
    [PREVIOUS_ID, [{ state: 'success', description: 'Deployed', environment: 'production' }]],
  ]);
  const comments = new Map<
    number,
    Array<{ id: number; body: string; created_at: string; updated_at: string }>
  >();
  const deliveries: Delivery[] = [];
  let commentId = 1;

  const app: FakeApp = {
    gh,
    webhookUrl: '',
    deliveries,
    async deliver(event, payload, guid = randomUUID(), redelivery = false) {
      const body = JSON.stringify(payload);
      const started = Date.now();
      let code = 0;
      let status = 'failed to connect to host';
      try {
        const res = await fetch(app.webhookUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': event,
            'x-github-delivery': guid,
            'x-hub-signature-256': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`,
            connection: 'close',
          },
          body,
        });
        await res.text();
        code = res.status;
        status = res.ok ? 'OK' : `Invalid HTTP Response: ${code}`;
      } catch {
        // The bot died or was not listening: GitHub records a failed delivery, and that is all.
      }
      deliveries.push({
        id: deliveries.length + 1,
        guid,
        delivered_at: new Date(started).toISOString(),
        redelivery,
        duration: (Date.now() - started) / 1000,
        status,
        status_code: code,
        event,
        action: (payload.action as string | undefined) ?? null,
        installation_id: (payload.installation as { id: number } | undefined)?.id ?? null,
        repository_id: (payload.repository as { id: number } | undefined)?.id ?? null,
        payload,
      });
      return code;
    },
    repoRequests: () => gh.requests.filter((r) => r.path.startsWith('/repos/') || r.path === '/graphql'),
    snapshot: () => ({
      refs: [...refs.entries()].filter(([r]) => r !== 'refs/heads/master').sort(),
      pulls: pulls.map((p) => ({
        ...p,
        labels: [...p.labels].sort(),
        reviewers: [...p.reviewers].sort(),
        team_reviewers: [...p.team_reviewers].sort(),
      })),
      statuses: statuses.get(DEPLOYMENT_ID)!.slice(1),
      comments: (comments.get(SHIPPED_PR) ?? []).map((c) => c.body),
    }),
    close: () => gh.close(),
  };

  // The App.
  gh.route('POST', '/app/installations/:id/access_tokens', (r) => [
    201,
    { token: `ghs_installation_${r.params.id}`, expires_at: '2099-01-01T00:00:00Z', permissions: {} },
  ]);
  gh.route('GET', '/app/hook/deliveries', () => [
    200,
    deliveries.map(({ payload: _, ...d }) => d).sort((a, b) => b.id - a.id),
  ]);
  gh.route('POST', '/app/hook/deliveries/:id/attempts', (r) => {
    const d = deliveries.find((x) => x.id === Number(r.params.id));
    if (!d) return [404, { message: 'Not Found' }];
    // GitHub answers 202 at once and delivers afterwards.
    setImmediate(() => void app.deliver(d.event, d.payload as Record<string, unknown>, d.guid, true));
    return [202, {}];
  });

  // What deployment_status reads.
  gh.route('GET', `${repoPath}/contents/:path`, (r) =>
    r.params.path === '.github/error-budget.yml'
      ? [
          200,
          {
            type: 'file',
            encoding: 'base64',
            content: Buffer.from(POLICY_TEXT).toString('base64'),
            sha: 'p'.repeat(40),
            size: POLICY_TEXT.length,
          },
        ]
      : [404, { message: 'Not Found' }],
  );
  gh.route('GET', `${repoPath}/deployments`, [
    200,
    [
      { id: DEPLOYMENT_ID, sha: DEPLOYED_SHA },
      { id: PREVIOUS_ID, sha: PREVIOUS_SHA },
    ],
  ]);
  gh.route('GET', `${repoPath}/deployments/:id/statuses`, (r) => [
    200,
    [...(statuses.get(Number(r.params.id)) ?? [])].reverse(),
  ]);
  gh.route('POST', `${repoPath}/deployments/:id/statuses`, (r) => {
    const list = statuses.get(Number(r.params.id));
    if (!list) return [404, { message: 'Not Found' }];
    const { state, description, log_url, environment } = r.body;
    list.push({ state, description, environment, ...(log_url ? { log_url } : {}) });
    return [201, { id: list.length, state }];
  });
  gh.route('GET', `${repoPath}/commits/:sha/pulls`, [
    200,
    [
      {
        number: SHIPPED_PR,
        title: 'Rewrite the refund prompt',
        user: { login: 'prompt-author' },
        labels: [],
        head: {
          ref: 'refund-prompt',
          sha: DEPLOYED_SHA,
          repo: { name: 'Hello-World', owner: { login: 'Codertocat' } },
        },
        merged_at: '2026-03-02T11:50:00Z',
      },
    ],
  ]);

  // What the revert reads.
  gh.route('GET', `${repoPath}/compare/:basehead`, (r): Reply => {
    if (r.params.basehead === `${PREVIOUS_SHA}...${DEPLOYED_SHA}`) {
      return [200, SHIPPED_COMPARE];
    }
    if (r.params.basehead === `${DEPLOYED_SHA}...${TIP}`) {
      return [
        200,
        {
          status: 'ahead',
          total_commits: 1,
          commits: [],
          files: [{ filename: 'README.md', status: 'modified' }],
        },
      ];
    }
    return [404, { message: 'Not Found' }];
  });
  gh.route('GET', `${repoPath}/branches/:branch`, (r) =>
    r.params.branch === 'master'
      ? [200, { name: 'master', commit: { sha: TIP, commit: { tree: { sha: TIP_TREE } } } }]
      : [404, { message: 'Branch not found' }],
  );
  gh.route('GET', `${repoPath}/git/trees/:sha`, [
    200,
    {
      sha: PREVIOUS_SHA,
      truncated: false,
      tree: [
        { path: 'README.md', mode: '100644', type: 'blob', sha: gitBlobSha('# agents\n') },
        { path: 'config/model-old.yml', mode: '100644', type: 'blob', sha: gitBlobSha(OLD_MODEL) },
        { path: 'prompts/refund.md', mode: '100644', type: 'blob', sha: gitBlobSha(OLD_REFUND) },
      ],
    },
  ]);

  // What the revert writes. Git objects are content-addressed, as in git: the same tree twice is one.
  gh.route('POST', `${repoPath}/git/trees`, (r) => [201, { sha: sha(['tree', r.body]), tree: [] }]);
  gh.route('POST', `${repoPath}/git/commits`, (r) => [201, { sha: sha(['commit', r.body]) }]);
  gh.route('POST', `${repoPath}/git/refs`, (r) => {
    if (refs.has(r.body.ref)) return [422, { message: 'Reference already exists', status: '422' }];
    refs.set(r.body.ref, r.body.sha);
    return [201, { ref: r.body.ref, object: { sha: r.body.sha } }];
  });
  const pullJson = (p: Pull) => ({
    number: p.number,
    html_url: p.html_url,
    node_id: p.node_id,
    draft: p.draft,
    head: { ref: p.head },
  });
  gh.route('GET', `${repoPath}/pulls`, (r) => {
    const head = new URLSearchParams(r.query).get('head');
    const branch = head?.split(':')[1];
    return [200, pulls.filter((p) => branch === undefined || p.head === branch).map(pullJson)];
  });
  gh.route('POST', `${repoPath}/pulls`, (r) => {
    const { head, base, title, body, draft } = r.body;
    if (!refs.has(`refs/heads/${head}`)) return [422, { message: 'Validation Failed: head invalid' }];
    if (pulls.some((p) => p.head === head))
      return [422, { message: `A pull request already exists for Codertocat:${head}.` }];
    const number = FIRST_PR + pulls.length;
    const p: Pull = {
      number,
      head,
      base,
      title,
      body,
      draft: draft ?? false,
      node_id: `PR_node_${number}`,
      html_url: `https://github.com/Codertocat/Hello-World/pull/${number}`,
      labels: new Set(),
      reviewers: new Set(),
      team_reviewers: new Set(),
      auto_merge: false,
    };
    pulls.push(p);
    return [201, pullJson(p)];
  });
  const pull = (n: string) => pulls.find((p) => p.number === Number(n));
  gh.route('POST', `${repoPath}/issues/:n/labels`, (r) => {
    const p = pull(r.params.n!);
    if (!p) return [404, { message: 'Not Found' }];
    for (const l of r.body.labels) p.labels.add(l);
    return [200, [...p.labels].map((name) => ({ name }))];
  });
  gh.route('POST', `${repoPath}/pulls/:n/requested_reviewers`, (r) => {
    const p = pull(r.params.n!);
    if (!p) return [404, { message: 'Not Found' }];
    for (const u of r.body.reviewers ?? []) p.reviewers.add(u);
    for (const t of r.body.team_reviewers ?? []) p.team_reviewers.add(t);
    return [201, pullJson(p)];
  });
  gh.route('POST', '/graphql', (r) => {
    const p = pulls.find((x) => x.node_id === r.body.variables?.id);
    if (!p) return [200, { data: null, errors: [{ message: 'Could not resolve to a node' }] }];
    p.auto_merge = true;
    return [
      200,
      {
        data: {
          enablePullRequestAutoMerge: {
            pullRequest: { number: p.number, autoMergeRequest: { enabledAt: 'now' } },
          },
        },
      },
    ];
  });
  gh.route('GET', `${repoPath}/issues/:n/comments`, (r) => [200, comments.get(Number(r.params.n)) ?? []]);
  gh.route('POST', `${repoPath}/issues/:n/comments`, (r) => {
    const n = Number(r.params.n);
    const list = comments.get(n) ?? [];
    comments.set(n, list);
    const now = new Date().toISOString();
    const c = { id: commentId++, body: r.body.body, created_at: now, updated_at: now };
    list.push(c);
    return [201, c];
  });
  return app;
}
