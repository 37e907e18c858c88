import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// Sessions live in the cookie, sealed (AES-256-GCM under a key derived from the session secret):
// any replica can read them, none has to share a session table, and the GitHub token inside is
// neither readable nor forgeable by the browser that holds it. Each seal carries its expiry, which
// is checked on open, so a stolen old cookie is worth nothing after it.

export const MIN_SECRET_LENGTH = 32;

export interface Sealer {
  seal(value: unknown, expiresAt: number): string;
  /** The value, or null when the cookie was forged, altered, sealed by another secret or expired. */
  open<T>(sealed: string, now: number): T | null;
}

export function sealer(secret: string, purpose: string): Sealer {
  if (secret.length < MIN_SECRET_LENGTH)
    throw new Error(`the session secret must be at least ${MIN_SECRET_LENGTH} characters`);
  // One key per purpose: a state cookie can never be replayed as a session.
  const key = createHash('sha256').update(`budget-gate dashboard ${purpose}\0${secret}`).digest();
  return {
    seal(value, expiresAt) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([
        cipher.update(JSON.stringify({ v: value, exp: expiresAt }), 'utf8'),
        cipher.final(),
      ]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    open<T>(sealed: string, now: number): T | null {
      try {
        const raw = Buffer.from(sealed, 'base64url');
        if (raw.length < 29) return null;
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
        const { v, exp } = JSON.parse(text) as { v: T; exp: number };
        return typeof exp === 'number' && now < exp ? v : null;
      } catch {
        return null;
      }
    },
  };
}

export function readCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

export interface CookieOptions {
  maxAgeSeconds: number;
  /** Strict for the session (no cross-site request carries it); Lax for the OAuth state, which comes back on GitHub's redirect. */
  sameSite: 'Strict' | 'Lax';
  secure: boolean;
}

export function cookie(name: string, value: string, o: CookieOptions): string {
  return [
    `${name}=${value}`,
    'Path=/',
    `Max-Age=${Math.max(0, Math.floor(o.maxAgeSeconds))}`,
    'HttpOnly',
    `SameSite=${o.sameSite}`,
    ...(o.secure ? ['Secure'] : []),
  ].join('; ');
}

export const randomToken = (): string => randomBytes(32).toString('base64url');

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
