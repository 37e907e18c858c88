import { cleanText } from '../net/clean-text.ts';

// PagerDuty's REST API, read only: what became of a page (acknowledged, by whom, when; resolved)
// and the notes on its incident, for drills and for teams without the bot. A read-only API key
// (PagerDuty → Integrations → API Access Keys → "Read-only") in BUDGET_GATE_PAGERDUTY_API_KEY; an EU
// account's API is https://api.eu.pagerduty.com (BUDGET_GATE_PAGERDUTY_API_URL). The key is sent as
// `Authorization: Token token=…` and never appears in an error.

export const PAGERDUTY_API_KEY_ENV = 'BUDGET_GATE_PAGERDUTY_API_KEY';
const PAGERDUTY_API_URL_ENV = 'BUDGET_GATE_PAGERDUTY_API_URL';
const PAGERDUTY_API = 'https://api.pagerduty.com';

export interface PagerDutyReader {
  apiKey: string;
  baseUrl: string;
  fetchFn: typeof fetch;
}

export function pagerdutyReader(
  env: Record<string, string | undefined>,
  fetchFn: typeof fetch = fetch,
): PagerDutyReader | null {
  const apiKey = env[PAGERDUTY_API_KEY_ENV];
  if (!apiKey) return null;
  return { apiKey, baseUrl: (env[PAGERDUTY_API_URL_ENV] || PAGERDUTY_API).replace(/\/+$/, ''), fetchFn };
}

interface ApiObject {
  id?: string;
  summary?: string;
}

async function get(r: PagerDutyReader, path: string): Promise<unknown> {
  const url = `${r.baseUrl}${path}`;
  let res: Response;
  try {
    res = await r.fetchFn(url, {
      headers: {
        authorization: `Token token=${r.apiKey}`,
        accept: 'application/vnd.pagerduty+json;version=2',
      },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (e) {
    throw new Error(
      `could not reach PagerDuty's REST API at ${new URL(url).host} (${cleanText((e as Error).message, 120)})`,
    );
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403)
    throw new Error(
      `PagerDuty's REST API refused ${PAGERDUTY_API_KEY_ENV} (${res.status}): it must be a valid read-only API key`,
    );
  if (res.status !== 200)
    throw new Error(`PagerDuty's REST API answered ${res.status}: ${cleanText(text, 200)}`);
  return JSON.parse(text);
}

export interface PagerDutyIncident {
  id: string;
  status: 'triggered' | 'acknowledged' | 'resolved' | string;
  /** The first acknowledgement: who (name and user id) and when. */
  acknowledged: { at: number; name: string; user: string | null } | null;
  /** Resolved: who changed it last, and when. */
  resolved: { at: number; name: string; user: string | null } | null;
}

/** The incident a dedup key opened (PagerDuty's incident_key), the newest first; null when none yet. */
export async function incidentByKey(r: PagerDutyReader, key: string): Promise<PagerDutyIncident | null> {
  const json = (await get(r, `/incidents?incident_key=${encodeURIComponent(key)}&date_range=all`)) as {
    incidents?: Array<{
      id: string;
      status: string;
      acknowledgements?: Array<{ at: string; acknowledger?: ApiObject }>;
      last_status_change_at?: string;
      last_status_change_by?: ApiObject;
    }>;
  };
  const inc = json.incidents?.[0];
  if (!inc) return null;
  const first = [...(inc.acknowledgements ?? [])].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))[0];
  const changed =
    inc.last_status_change_at && inc.last_status_change_by
      ? {
          at: Date.parse(inc.last_status_change_at),
          name: inc.last_status_change_by.summary ?? 'someone',
          user: inc.last_status_change_by.id ?? null,
        }
      : null;
  return {
    id: inc.id,
    status: inc.status,
    acknowledged: first
      ? {
          at: Date.parse(first.at),
          name: first.acknowledger?.summary ?? 'someone',
          user: first.acknowledger?.id ?? null,
        }
      : inc.status === 'acknowledged'
        ? changed
        : null,
    resolved: inc.status === 'resolved' ? changed : null,
  };
}

/** The notes on an incident, oldest first: a drill's steps are confirmed in them (`confirm 1 2`). */
export async function incidentNotes(
  r: PagerDutyReader,
  id: string,
): Promise<Array<{ at: number; name: string; user: string | null; content: string }>> {
  const json = (await get(r, `/incidents/${encodeURIComponent(id)}/notes`)) as {
    notes?: Array<{ created_at: string; user?: ApiObject; content?: string }>;
  };
  return (json.notes ?? [])
    .map((n) => ({
      at: Date.parse(n.created_at),
      name: n.user?.summary ?? 'someone',
      user: n.user?.id ?? null,
      content: n.content ?? '',
    }))
    .sort((a, b) => a.at - b.at);
}
