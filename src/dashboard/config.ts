import type { IncomingMessage, ServerResponse } from 'node:http';
import { githubSignIn } from './auth.ts';
import { DASHBOARD_ENV, dashboardValues, dashboardWanted } from './env.ts';
import type { DashboardStore } from './ports.ts';
import { dashboardHandler } from './server.ts';
import { MIN_SECRET_LENGTH } from './session.ts';

// The bot serves the dashboard only when it is configured: all four variables, or none. The
// lead mounts the returned handler on the bot's HTTP server (it answers under `base` and returns
// false for everything else).

export type DashboardHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** The signed-in dashboard, or null when it is off; a half-done configuration is an error that names what is missing. */
export function dashboardFromEnv(
  env: Record<string, string | undefined>,
  store: DashboardStore,
  opts: { base?: string; apiUrl?: string } = {},
): DashboardHandler | null {
  const values = dashboardValues(env);
  const missing = Object.entries(DASHBOARD_ENV)
    .filter(([k]) => !values[k as keyof typeof DASHBOARD_ENV])
    .map(([, name]) => name);
  if (!dashboardWanted(env)) return null;
  if (missing.length > 0)
    throw new Error(`the dashboard needs ${missing.join(', ')} (README: "The dashboard")`);
  if (values.sessionSecret!.length < MIN_SECRET_LENGTH)
    throw new Error(
      `${DASHBOARD_ENV.sessionSecret} must be at least ${MIN_SECRET_LENGTH} characters (openssl rand -hex 32)`,
    );
  const callback = new URL(values.callbackUrl!);
  const base = opts.base ?? callback.pathname.replace(/\/callback$/, '');
  if (!callback.pathname.endsWith('/callback'))
    throw new Error(
      `${DASHBOARD_ENV.callbackUrl} must end in /callback under the dashboard's path, e.g. https://bot.example.com/dashboard/callback`,
    );
  const loopback = /^(127\.0\.0\.1|localhost|\[::1\])$/.test(callback.hostname);
  if (callback.protocol !== 'https:' && !loopback)
    throw new Error(`${DASHBOARD_ENV.callbackUrl} must be https: the session cookie is Secure`);
  return dashboardHandler({
    store,
    base,
    access: githubSignIn({
      clientId: values.clientId!,
      clientSecret: values.clientSecret!,
      callbackUrl: values.callbackUrl!,
      sessionSecret: values.sessionSecret!,
      base,
      ...(opts.apiUrl ? { apiUrl: opts.apiUrl } : {}),
    }),
  });
}
