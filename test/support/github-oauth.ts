import type { FakeGitHub, Recorded } from './github-server.ts';

// GitHub's side of an App's web sign-in, played on the loopback stand-in: the authorize page
// (which here approves at once, as the person named by `signInAs`), the code exchange, the user,
// and the installations and repositories that user can reach through the App. Replies have the
// shape GitHub sends (docs: "Generating a user access token for a GitHub App").

export interface OAuthUser {
  id: number;
  /** Installation id → full names of the repositories this user can read through it. */
  installations: Record<number, string[]>;
}

export interface FakeOAuth {
  users: Record<string, OAuthUser>;
  /** Who approves on the next visit to the authorize page. */
  signInAs(login: string): void;
  /** Tokens GitHub no longer honours (revoked, or the user removed from the App). */
  revoked: Set<string>;
  tokens: Map<string, string>;
}

export function githubOAuth(
  gh: FakeGitHub,
  clientId: string,
  clientSecret: string,
  users: Record<string, OAuthUser>,
): FakeOAuth {
  let next = Object.keys(users)[0]!;
  const codes = new Map<string, string>();
  const tokens = new Map<string, string>(); // token → login
  const revoked = new Set<string>();
  let n = 0;
  const who = (req: Recorded): string | null => {
    const token = /^(?:Bearer|token) (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    return token && !revoked.has(token) ? (tokens.get(token) ?? null) : null;
  };
  const unauthorized: [number, unknown] = [
    401,
    { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' },
  ];

  gh.route('GET', '/login/oauth/authorize', (req) => {
    const q = new URLSearchParams(req.query);
    if (q.get('client_id') !== clientId) return [404, { message: 'Not Found' }];
    const code = `code-${++n}`;
    codes.set(code, next);
    const to = new URL(q.get('redirect_uri')!);
    to.searchParams.set('code', code);
    to.searchParams.set('state', q.get('state') ?? '');
    return [302, '', { location: to.toString() }];
  });
  gh.route('POST', '/login/oauth/access_token', (req) => {
    const b = typeof req.body === 'string' ? Object.fromEntries(new URLSearchParams(req.body)) : req.body;
    const login = codes.get(b.code);
    if (b.client_id !== clientId || b.client_secret !== clientSecret || !login)
      return [
        200,
        {
          error: 'bad_verification_code',
          error_description: 'The code passed is incorrect or expired.',
          error_uri:
            'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code',
        },
      ];
    codes.delete(b.code);
    const token = `ghu_${login}_${++n}`;
    tokens.set(token, login);
    return [
      200,
      {
        access_token: token,
        expires_in: 28800,
        refresh_token: `ghr_${n}`,
        refresh_token_expires_in: 15897600,
        token_type: 'bearer',
        scope: '',
      },
    ];
  });
  gh.route('GET', '/user', (req) => {
    const login = who(req);
    return login ? [200, { login, id: users[login]!.id, type: 'User', site_admin: false }] : unauthorized;
  });
  gh.route('GET', '/user/installations', (req) => {
    const login = who(req);
    if (!login) return unauthorized;
    const ids = Object.keys(users[login]!.installations).map(Number);
    return [
      200,
      {
        total_count: ids.length,
        installations: ids.map((id) => ({
          id,
          app_id: 1,
          target_type: 'Organization',
          account: { login: `org-${id}` },
        })),
      },
    ];
  });
  gh.route('GET', '/user/installations/:id/repositories', (req) => {
    const login = who(req);
    if (!login) return unauthorized;
    const names = users[login]!.installations[Number(req.params.id)];
    if (!names) return [404, { message: 'Not Found' }];
    const q = new URLSearchParams(req.query);
    const per = Number(q.get('per_page') ?? 30);
    const page = Number(q.get('page') ?? 1);
    const slice = names.slice((page - 1) * per, page * per);
    return [
      200,
      {
        total_count: names.length,
        repositories: slice.map((full_name, i) => ({
          id: i + 1,
          name: full_name.split('/')[1],
          full_name,
          private: true,
        })),
      },
    ];
  });
  gh.route('DELETE', '/applications/:client_id/token', (req) => {
    revoked.add(req.body?.access_token);
    return [204, ''];
  });
  return {
    users,
    signInAs: (login) => {
      next = login;
    },
    revoked,
    tokens,
  };
}
