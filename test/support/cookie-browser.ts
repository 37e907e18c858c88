/** A browser in a few lines: follows redirects by hand, keeps cookies. */
export function cookieBrowser() {
  const jar = new Map<string, string>();
  const go = async (url: string, init: RequestInit = {}) => {
    const r = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as object), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const c of r.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split('; ');
      const [k, v] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
      if (attrs.includes('Max-Age=0')) jar.delete(k);
      else jar.set(k, v);
    }
    return {
      status: r.status,
      location: r.headers.get('location'),
      text: await r.text(),
      cookies: r.headers.getSetCookie(),
    };
  };
  const follow = async (url: string) => {
    let r = await go(url);
    for (let i = 0; i < 10 && r.location; i++) r = await go(new URL(r.location, url).toString());
    return r;
  };
  return { go, follow, jar };
}
