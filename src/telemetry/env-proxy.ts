import * as http from 'node:http';

// Self-hosted runners behind a corporate proxy set HTTPS_PROXY/HTTP_PROXY/NO_PROXY, and GitHub's
// toolkit (@actions/http-client) honours them. fetch() does not by default, so the Action's GitHub
// calls (Octokit over fetch) and the metrics client would go direct and fail. Node 24 ships the
// proxy support in its own undici; http.setGlobalProxyFromEnv() switches it on for every fetch()
// and http.request() of the process — no proxy library in the bundle. As the toolkit does,
// loopback never goes through the proxy (a Prometheus on localhost is on the runner itself).

type Env = Record<string, string | undefined>;

/** Added to NO_PROXY: the loopback names and addresses the toolkit never proxies. */
const LOOPBACK = ['localhost', '127.0.0.1', '::1', '[::1]'];

type SetGlobalProxy = (env: Record<string, string>) => () => void;

let applied: string | null = null;

/** The proxy settings as the toolkit reads them: lower case first, then upper case. */
export function proxySettings(
  env: Env,
): { HTTP_PROXY?: string; HTTPS_PROXY?: string; NO_PROXY: string } | null {
  const https = env.https_proxy || env.HTTPS_PROXY || undefined;
  const plain = env.http_proxy || env.HTTP_PROXY || undefined;
  if (!https && !plain) return null;
  const noProxy = (env.no_proxy || env.NO_PROXY || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    ...(plain ? { HTTP_PROXY: plain } : {}),
    ...(https ? { HTTPS_PROXY: https } : {}),
    NO_PROXY: [...noProxy, ...LOOPBACK.filter((l) => !noProxy.includes(l))].join(','),
  };
}

export interface ProxyNote {
  /** False when a proxy is set but this Node cannot use it: requests go direct. */
  ok: boolean;
  message: string;
}

/**
 * Routes this process's fetch() through the proxy the environment names, once (again only if the
 * settings change). Returns what it did, to log; null when no proxy is set or nothing changed.
 */
export function useEnvProxy(env: Env = process.env): ProxyNote | null {
  const settings = proxySettings(env);
  if (!settings) return null;
  const key = JSON.stringify(settings);
  if (applied === key) return null;
  const set = (http as unknown as { setGlobalProxyFromEnv?: SetGlobalProxy }).setGlobalProxyFromEnv;
  if (typeof set !== 'function') {
    return {
      ok: false,
      message: `HTTPS_PROXY/HTTP_PROXY is set but Node ${process.version} has no http.setGlobalProxyFromEnv, so requests go direct: run a newer Node 24, or set NODE_USE_ENV_PROXY=1`,
    };
  }
  set(settings as Record<string, string>);
  applied = key;
  const via = [settings.HTTPS_PROXY && 'HTTPS_PROXY', settings.HTTP_PROXY && 'HTTP_PROXY']
    .filter(Boolean)
    .join(' and ');
  return { ok: true, message: `requests go through ${via}, except NO_PROXY (${settings.NO_PROXY})` };
}
