// The dashboard's variables, apart from its modules: the bot asks whether the dashboard is wanted
// before it loads the pages and charts (half of the bot's modules), which an unconfigured bot never
// needs.

export const DASHBOARD_ENV = {
  clientId: 'GITHUB_CLIENT_ID',
  clientSecret: 'GITHUB_CLIENT_SECRET',
  callbackUrl: 'DASHBOARD_CALLBACK_URL',
  sessionSecret: 'DASHBOARD_SESSION_SECRET',
} as const;

export type DashboardValues = Record<keyof typeof DASHBOARD_ENV, string | undefined>;

export const dashboardValues = (env: Record<string, string | undefined>): DashboardValues =>
  Object.fromEntries(
    Object.entries(DASHBOARD_ENV).map(([k, name]) => [k, env[name]?.trim() || undefined]),
  ) as DashboardValues;

/** The client id and secret alone are Probot's own; the dashboard is on once either of its two is set. */
export const dashboardWanted = (env: Record<string, string | undefined>): boolean => {
  const v = dashboardValues(env);
  return Boolean(v.callbackUrl || v.sessionSecret);
};
