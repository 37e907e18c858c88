import type { Watch } from '../policy/canary/ports.ts';
import type { Decision } from '../policy/gate/decision-schema.ts';
import type { LedgerEntry } from '../policy/oncall/ports.ts';
import { rotationOf, shiftAt } from '../policy/oncall/rotation.ts';
import {
  loadByShift,
  loadOver,
  monthStart,
  type PageRecord,
  type ShiftLoad,
} from '../policy/oncall/shift-load.ts';
import { formatWall } from '../policy/oncall/zone.ts';
import type { AuditRecord } from '../policy/overrides/audit-chain.ts';
import type { Policy } from '../policy/spec/schema.ts';
import type { Incident, TimelineEvent } from '../store/incidents.ts';
import { literal, literalCode } from './markdown-text.ts';

// The handoff report's Markdown, from what the command gathered (src/cli/commands/handoff.ts):
// the shift, its pages and their load, alerts that fired, the budget then and now, the audit log.

type AuditLine = Pick<
  AuditRecord,
  'kind' | 'repo' | 'pull_request' | 'label' | 'actor' | 'at' | 'state' | 'message'
>;

export interface HandoffData {
  policy: Policy;
  since: number;
  at: number;
  start: Decision | null;
  end: Decision | null;
  /** Alert name/SLO → first and last time seen firing, and the worst burn. */
  fired: Array<{ name: string; slo: string; severity: string; first: number; last: number; burn: number }>;
  telemetry: string | null;
  watches: Watch[] | null;
  audit: AuditLine[] | null;
  auditProblem: string | null;
  /** How far apart the alerts were judged (ms). */
  step: number;
  /** From the bot's store: incidents open during the month, with their timelines. */
  incidents: Array<{ inc: Incident; timeline: TimelineEvent[] }> | null;
  /** From oncall page's ledger: what was raised this month. */
  ledger: LedgerEntry[] | null;
}

const dur = (ms: number | null) =>
  ms === null ? 'n/a' : ms < 3_600_000 ? `${Math.round(ms / 60_000)}m` : `${(ms / 3_600_000).toFixed(1)}h`;

/** Pages as the load counts them, from the store (acknowledged) or the ledger (no acknowledgements). */
function pageRecords(h: HandoffData): PageRecord[] | null {
  if (h.incidents)
    return h.incidents
      .filter(({ inc }) => inc.action !== 'drill')
      .map(({ inc, timeline }) => ({
        key: inc.key,
        alert: inc.alert,
        severity: inc.severity,
        opened_at: inc.opened_at,
        paged: inc.action === 'page' && timeline.some((t) => t.kind === 'pagerduty-trigger'),
        acked_at: inc.acked_at,
        recovered_at: inc.recovered_at ?? inc.resolved_at,
      }));
  if (h.ledger)
    return h.ledger.map((e) => ({
      key: e.key.replace(/#\d+$/, ''),
      alert: /\/alert\/([^/]+)\//.exec(e.key)?.[1] ?? e.kind,
      severity: e.severity,
      opened_at: e.raised_at,
      paged: e.paged.length > 0 || e.posted.includes('paged') || e.posted.includes('promoted'),
      acked_at: null,
      recovered_at: e.resolved_at,
    }));
  return null;
}

function loadRow(l: ShiftLoad, z: string, acks: boolean): string {
  return `| ${formatWall(l.starts, z)} | ${l.primary ? `@${l.primary}` : ''} | ${l.pages} | ${l.night} | ${acks ? l.unacknowledged : 'n/a'} | ${acks ? dur(l.mtta) : 'n/a'} | ${dur(l.mttr)} |`;
}

function renderShift(h: HandoffData, out: string[]): void {
  const z = h.policy.oncall.timezone;
  const inShift = (from: number, to: number | null) => from < h.at && (to === null || to >= h.since);
  out.push('', '## Incidents and pages', '');
  if (h.incidents) {
    const mine = h.incidents.filter(({ inc }) => inShift(inc.opened_at, inc.resolved_at));
    if (mine.length === 0) out.push('None.');
    for (const { inc, timeline } of mine) {
      const paged = timeline.some((t) => t.kind === 'pagerduty-trigger');
      const esc = timeline.filter((t) => t.kind === 'escalated').length;
      out.push(
        `- ${inc.action === 'drill' ? 'DRILL ' : ''}${inc.severity} **${literal(inc.alert)}** (${literal(inc.repo)}), opened ${formatWall(inc.opened_at, z)}${paged ? ', paged' : inc.action === 'ticket' ? ', ticket' : ''}: ${inc.acked_at !== null ? `acknowledged by ${literal(inc.acked_by ?? 'unknown')} after ${dur(inc.acked_at - inc.opened_at)}` : inc.action === 'page' ? '**not acknowledged**' : 'no acknowledgement asked'}${esc ? `, escalated ${esc}×` : ''}; ${inc.resolved_at !== null ? `resolved after ${dur(inc.resolved_at - inc.opened_at)} by ${literal(inc.resolved_by ?? 'unknown')}` : inc.recovered_at !== null ? `recovered after ${dur(inc.recovered_at - inc.opened_at)}, still open` : '**still open**'}${inc.issue_number ? ` (#${inc.issue_number})` : ''}`,
      );
    }
  } else if (h.ledger) {
    const mine = h.ledger.filter((e) => inShift(e.raised_at, e.resolved_at));
    if (mine.length === 0) out.push('None sent (oncall page ledger).');
    for (const e of mine)
      out.push(
        `- ${e.severity} ${e.kind} ${literalCode(e.key.replace(/#\d+$/, ''))}, raised ${formatWall(e.raised_at, z)}: ${e.resolved_at !== null ? `resolved after ${dur(e.resolved_at - e.raised_at)}` : '**still open**'}`,
      );
    out.push('', 'Acknowledgements are not in the ledger: the bot’s store (--store) or PagerDuty has them.');
  } else
    out.push('No bot store (--store) or oncall page ledger (--ledger) given: incidents and pages unknown.');

  const pages = pageRecords(h);
  out.push('', '## Unacknowledged pages', '');
  if (!h.incidents) out.push('Unknown without the bot’s store (--store).');
  else {
    const un = (pages ?? []).filter(
      (p) => p.paged && p.acked_at === null && p.opened_at < h.at && p.opened_at >= h.since,
    );
    if (un.length === 0) out.push('None.');
    for (const p of un)
      out.push(
        `- ${p.severity} **${literal(p.alert)}** paged ${formatWall(p.opened_at, z)}: nobody acknowledged it`,
      );
  }

  out.push('', '## Schedule changes', '');
  const o = h.policy.oncall;
  const covers = (o.overrides ?? []).filter((v) => {
    const r = rotationOf(o);
    const cover = r?.overrides?.find((x) => x.login === v.login && x.reason === (v.reason ?? null));
    return cover ? cover.from < h.at && cover.to > h.since : false;
  });
  for (const v of covers)
    out.push(
      `- override: @${v.login} covers ${v.role} ${v.from} → ${v.to}${v.reason ? ` (${literal(v.reason)})` : ''}`,
    );
  const swaps = (o.swaps ?? []).filter((w) =>
    w.shifts.some((d) => {
      const t = Date.parse(`${d}T00:00:00Z`);
      return t < h.at + 8 * 86_400_000 && t > h.since - 8 * 86_400_000;
    }),
  );
  for (const w of swaps)
    out.push(`- swap: the shifts of ${w.shifts.join(' and ')}${w.layer ? ` (${w.layer})` : ''}`);
  if (covers.length + swaps.length === 0) out.push('None in the policy for this shift.');

  out.push('', '## Load', '');
  if (!pages) out.push('Unknown without the bot’s store (--store) or the oncall page ledger (--ledger).');
  else {
    const acks = h.incidents !== null;
    const head = [
      '| shift from | primary | pages | night pages | unacknowledged | MTTA | MTTR |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    ];
    const shift = loadByShift(o, pages, h.since, h.at);
    out.push(
      'This shift (night: 22:00–07:00 on the clock of the person paged; means over the pages):',
      '',
      ...head,
    );
    for (const l of shift) out.push(loadRow(l, z, acks));
    const m0 = monthStart(o, h.at);
    const month = loadByShift(o, pages, m0, h.at);
    out.push('', `This month, shift by shift (from ${formatWall(m0, z)}):`, '', ...head);
    for (const l of month) out.push(loadRow(l, z, acks));
    const all = loadOver(o, pages, m0, h.at);
    out.push(
      `| **month** | | ${all.pages} | ${all.night} | ${acks ? all.unacknowledged : 'n/a'} | ${acks ? dur(all.mtta) : 'n/a'} | ${dur(all.mttr)} |`,
    );
    if (!acks)
      out.push('', 'MTTA needs acknowledgements: the bot’s store (--store) has them, the ledger does not.');
  }
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? 'n/a' : `${(x * 100).toPrecision(3)}%`;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

export function renderHandoff(h: HandoffData): string {
  const z = h.policy.oncall.timezone;
  const out = [`# Handoff: ${formatWall(h.since, z)} → ${formatWall(h.at, z)}`, ''];
  const r = rotationOf(h.policy.oncall);
  if (r) {
    const before = shiftAt(r, h.since);
    const now = shiftAt(r, h.at);
    out.push(
      before.index === now.index
        ? `On call: @${now.primary}${now.secondary ? ` (secondary @${now.secondary})` : ''}; next handoff to @${now.next.primary} at ${formatWall(now.ends, z)}.`
        : `On call: @${before.primary} handed over to @${now.primary}${now.secondary ? ` (secondary @${now.secondary})` : ''} at ${formatWall(now.starts, z)}.`,
      '',
    );
  }

  out.push('## Budget', '');
  if (!h.end)
    out.push(
      `No telemetry given (--telemetry or --prometheus): budget state unknown.${h.telemetry ? ` ${h.telemetry}` : ''}`,
    );
  else {
    out.push(
      `State now: **${h.end.state.toUpperCase()}**${h.start && h.start.state !== h.end.state ? ` (was ${h.start.state.toUpperCase()} at the start of the shift)` : ''}.`,
      '',
    );
    out.push('| SLO | consumed at start | consumed now | moved | state |', '| --- | --- | --- | --- | --- |');
    for (const s of h.end.slos) {
      const was = h.start?.slos.find((x) => x.name === s.name)?.consumed ?? null;
      const moved =
        was !== null && s.consumed !== null
          ? `${s.consumed >= was ? '+' : ''}${((s.consumed - was) * 100).toPrecision(2)} pts`
          : 'n/a';
      out.push(`| ${s.name} | ${pct(was)} | ${pct(s.consumed)} | ${moved} | ${s.state} |`);
    }
  }

  renderShift(h, out);

  out.push('', `## Alerts that fired (${h.fired.length})`, '');
  if (!h.end) out.push('Unknown without telemetry.');
  else {
    out.push(
      `Judged every ${dur(h.step)} of the shift: a burn shorter than that can be missed (the bot’s store has every one).`,
      '',
    );
    if (h.fired.length === 0) out.push('None.');
  }
  for (const f of h.fired)
    out.push(
      `- ${f.severity} **${f.name}** on ${f.slo}: first seen ${iso(f.first)}, last ${iso(f.last)} UTC, up to ${f.burn.toFixed(1)}x`,
    );

  out.push('', '## Deploys and watches', '');
  if (!h.watches) out.push('No bot store given (--store): deploys unknown.');
  else {
    const landed = h.watches.filter((w) => w.deployed_at >= h.since && w.deployed_at <= h.at);
    if (landed.length === 0) out.push('No deployment went live during the shift.');
    for (const w of landed)
      out.push(
        `- ${iso(w.deployed_at)} ${w.owner}/${w.repo} ${w.environment} ${w.sha.slice(0, 7)}${w.pull_number ? ` (#${w.pull_number} ${literal(w.pull_title ?? '')})` : ''}: ${w.status}${w.reason ? `, ${literal(w.reason)}` : ''}`,
      );
    const reverts = h.watches.filter(
      (w) => (w.revert_pr !== null || w.status === 'reverting') && w.updated_at >= h.since,
    );
    out.push('', `## Reverts (${reverts.length})`, '');
    if (reverts.length === 0) out.push('None.');
    for (const w of reverts)
      out.push(
        `- deployment ${w.deployment_id} (${w.sha.slice(0, 7)}): ${w.status === 'reverting' ? 'revert in progress (not opened yet: check the bot log)' : `revert #${w.revert_pr} opened ${iso(w.updated_at)} UTC`}${w.reason ? `: ${literal(w.reason)}` : ''}`,
      );
  }

  out.push('', '## Overrides', '');
  if (h.auditProblem) out.push(`Audit log not used: ${h.auditProblem}`);
  else if (!h.audit) out.push('No audit log given (--audit): overrides unknown.');
  else {
    const inShift = h.audit.filter((a) => Date.parse(a.at) >= h.since && Date.parse(a.at) <= h.at);
    if (inShift.length === 0) out.push('None used or refused.');
    for (const a of inShift)
      out.push(
        `- ${iso(Date.parse(a.at))} UTC ${a.kind === 'override-applied' ? 'used' : a.kind === 'override-refused' ? 'REFUSED' : a.kind}: ${literalCode(a.label)} by @${literal(a.actor ?? 'unknown')} on ${literal(a.repo)}${a.pull_request ? `#${a.pull_request}` : ''} (${literal(a.state ?? 'n/a')})`,
      );
  }
  return `${out.join('\n')}\n`;
}
