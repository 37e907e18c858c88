// GitHub's Link header pagination, read by hand so a caller can stop early (or walk backwards)
// instead of fetching every page the way octokit.paginate does.

/** The page number of rel="last" in a Link header; 1 when there is no further page. */
export function lastPageOf(link: string | undefined): number {
  if (!link) return 1;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="last"/.exec(part);
    if (m) {
      const page = new URL(m[1]!).searchParams.get('page');
      const n = page ? Number(page) : Number.NaN;
      return Number.isInteger(n) && n > 0 ? n : 1;
    }
  }
  return 1;
}

/** True when the Link header offers a rel="next" page. */
export const hasNextPage = (link: string | undefined): boolean => !!link && /rel="next"/.test(link);

/**
 * Reads pages 1, 2, … while there is a next page and fewer than `limit` items were collected.
 * `truncated` says whether items were left unread.
 */
export async function collectPages<T>(
  fetchPage: (page: number) => Promise<{ data: T[]; headers: { link?: string } }>,
  limit: number,
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  for (let page = 1; ; page++) {
    const res = await fetchPage(page);
    items.push(...res.data);
    const more = hasNextPage(res.headers.link);
    if (!more) return { items: items.slice(0, limit), truncated: items.length > limit };
    if (items.length >= limit) return { items: items.slice(0, limit), truncated: true };
  }
}
