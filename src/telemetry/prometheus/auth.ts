import type { PrometheusOptions } from './options.ts';

// Credentials go into headers and nowhere else: every message a failure produces is passed through
// the redactor, so a token that ends up in an error (an invalid header value, a proxy echoing the
// request) is never printed in a check run or a terminal.

/** Basic credentials given explicitly, or in the URL (`https://user:pass@host`), which fetch refuses. */
function basicCredentials(opts: PrometheusOptions): { username: string; password: string } | null {
  if (opts.basicAuth) return opts.basicAuth;
  try {
    const u = new URL(opts.url);
    if (u.username || u.password)
      return { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  } catch {}
  return null;
}

const base64 = (s: string) => Buffer.from(s).toString('base64');

export function authHeaders(opts: PrometheusOptions): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  const basic = basicCredentials(opts);
  // Secrets read from files and env often end in a newline, which is not a valid header value.
  if (opts.bearerToken) h.authorization = `Bearer ${opts.bearerToken.trim()}`;
  else if (basic) h.authorization = `Basic ${base64(`${basic.username}:${basic.password}`)}`;
  return { ...h, ...opts.headers };
}

const SECRET_HEADER = /authorization|cookie|token|secret|password|key/i;

/** Replaces every credential the options hold with `***`. */
export function redactor(opts: PrometheusOptions): (message: string) => string {
  const basic = basicCredentials(opts);
  const secrets = [
    opts.bearerToken,
    opts.bearerToken?.trim(),
    basic?.password,
    basic ? base64(`${basic.username}:${basic.password}`) : undefined,
    ...Object.entries(opts.headers ?? {})
      .filter(([name]) => SECRET_HEADER.test(name))
      .map(([, value]) => value),
  ].filter((s): s is string => typeof s === 'string' && s.length >= 3);
  return (message) => secrets.reduce((m, s) => m.replaceAll(s, '***'), message);
}
