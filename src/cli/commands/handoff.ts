import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanText } from '../../net/clean-text.ts';
import { FileLedger, LedgerError } from '../../notify/ledger.ts';
import type { Watch } from '../../policy/canary/ports.ts';
import { changeSchema } from '../../policy/gate/change.ts';
import { decide } from '../../policy/gate/decide.ts';
import type { Decision } from '../../policy/gate/decision-schema.ts';
import { planRequest } from '../../policy/gate/plan.ts';
import type { TelemetrySource } from '../../policy/gate/ports.ts';
import type { LedgerEntry } from '../../policy/oncall/ports.ts';
import { rotationOf, shiftAt } from '../../policy/oncall/rotation.ts';
import {
  loadByShift,
  loadOver,
  monthStart,
  type PageRecord,
  type ShiftLoad,
} from '../../policy/oncall/shift-load.ts';
import { formatWall } from '../../policy/oncall/zone.ts';
import { type AuditRecord, verifyChain } from '../../policy/overrides/audit-chain.ts';
import type { Policy } from '../../policy/spec/schema.ts';
import { reason } from '../../repo/read-input.ts';
import { literal, literalCode } from '../../report/markdown-text.ts';
import type { Incident, TimelineEvent } from '../../store/incidents.ts';
import { parseAt, readPolicy, readText } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';
import { openTelemetry, SOURCE_OPTIONS } from '../telemetry.ts';

export const HANDOFF_USAGE = `budget-gate handoff [--since TIME] [--at TIME] [--policy FILE] [--repo OWNER/NAME]
    [--telemetry FILE | --prometheus URL] [--audit FILE] [--store sqlite:PATH|postgres://...]
    [--ledger FILE]

The shift-change summary, in Markdown, of the whole shift (--since, default the last handoff):
who hands over to whom; every incident and page (--store: the bot's store, with who acknowledged
and how fast; or --ledger: what oncall page sent), the pages nobody acknowledged, the shift's load
(pages, pages in the night of the person paged) and its MTTA / MTTR, shift by shift for the month;
deploys, their watches and reverts (--store); overrides used and refused (--audit) and the
schedule's overrides and swaps; alerts that fired (the policy's alerts judged at least every
alert's short window, at most ${96} looks, from --telemetry or --prometheus); the budget now and
how it moved. exit 0 written, 2 invalid input or unreadable telemetry`;

type AuditLine = Pick<
  AuditRecord,
  'kind' | 'repo' | 'pull_request' | 'label' | 'actor' | 'at' | 'state' | 'message'
>;

interface HandoffData {
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

const MAX_LOOKS = 96;

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

function renderHandoff(h: HandoffData): string {
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

async function judge(policy: Policy, source: TelemetrySource, at: number): Promise<Decision> {
  const result = await source.fetch(planRequest(policy, at));
  return decide({
    policy,
    at,
    change: changeSchema.parse({ files: [] }),
    telemetry: { source: source.name, result, error: null },
    warnings: [],
  });
}

export async function handoffCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...SOURCE_OPTIONS,
      since: { type: 'string' },
      at: { type: 'string' },
      audit: { type: 'string' },
      store: { type: 'string' },
      ledger: { type: 'string' },
      repo: { type: 'string' },
    },
  });
  const at = parseAt(io, values.at);
  const { policy } = await readPolicy(io, values.policy);
  const rotation = rotationOf(policy.oncall);
  if (!values.since && !rotation)
    throw new CliError(
      '--since TIME is required without a rotation (the start of the shift), such as 2026-11-19T09:00:00Z',
    );
  // Since the last handoff: the start of the shift holding the pager now.
  const since = values.since ? parseAt(io, values.since, '--since') : shiftAt(rotation!, at).starts;
  if (since >= at) throw new CliError('--since must be before --at (or now)');
  const h: HandoffData = {
    policy,
    since,
    at,
    start: null,
    end: null,
    fired: [],
    telemetry: null,
    watches: null,
    audit: null,
    auditProblem: null,
    step: 0,
    incidents: null,
    ledger: null,
  };

  if (values.telemetry || values.prometheus || io.env.BUDGET_GATE_PROMETHEUS_URL) {
    const source = await openTelemetry(io, values);
    try {
      h.start = await judge(policy, source, since);
      h.end = await judge(policy, source, at);
      // At least every alert's short window (a burn that fires lasts that long), at most MAX_LOOKS.
      const shortest = Math.min(...policy.alerts.map((a) => a.short.ms), 3_600_000);
      const step = Math.max(60_000, shortest, (at - since) / MAX_LOOKS);
      h.step = step;
      const fired = new Map<string, HandoffData['fired'][number]>();
      const times: number[] = [];
      for (let t = since; t < at; t += step) times.push(t);
      times.push(at);
      for (const t of times) {
        const d = t === since ? h.start : t === at ? h.end : await judge(policy, source, t);
        for (const a of d.alerts) {
          const k = `${a.name}\n${a.slo}`;
          const f = fired.get(k) ?? {
            name: a.name,
            slo: a.slo,
            severity: a.severity,
            first: t,
            last: t,
            burn: 0,
          };
          f.last = t;
          f.burn = Math.max(f.burn, a.short_burn, a.long_burn);
          fired.set(k, f);
        }
      }
      h.fired = [...fired.values()];
    } catch (e) {
      io.stderr(`budget-gate handoff: telemetry from ${source.name}: ${(e as Error).message}\n`);
      return EXIT.invalid;
    }
  }
  if (values.store) {
    const store = await openExistingStore(values.store, io);
    try {
      h.watches = await store.list();
      const incidents = await store.incidents.between(
        values.repo ?? '',
        Math.min(since, monthStart(policy.oncall, at)),
        at,
      );
      h.incidents = [];
      for (const inc of incidents) h.incidents.push({ inc, timeline: await store.incidents.timeline(inc) });
    } catch (e) {
      throw storeError(values.store, 'cannot read the watches from', e);
    } finally {
      await store.close().catch(() => {});
    }
  }
  if (values.ledger && !h.incidents) {
    try {
      const from = Math.min(since, monthStart(policy.oncall, at));
      h.ledger = (await new FileLedger(resolve(io.cwd, values.ledger)).all()).filter(
        (e) =>
          (values.repo ? e.repo === values.repo : true) &&
          e.raised_at <= at &&
          (e.resolved_at === null || e.resolved_at >= from),
      );
    } catch (e) {
      if (e instanceof LedgerError) throw new CliError(e.message);
      throw e;
    }
  }
  if (values.audit) {
    const text = await readText(io, values.audit, 'audit log');
    const v = verifyChain(text);
    if (!v.ok) h.auditProblem = `${values.audit}:${v.line}: ${v.problem}`;
    else h.audit = v.records;
  }
  io.stdout(renderHandoff(h));
  return EXIT.allowed;
}

/**
 * The bot's store, read only: a mistyped `sqlite:` path must not create an empty database and
 * report a quiet shift. node:sqlite is in Node 22.13 and later; an older Node is told so in one
 * line, as bin/budget-gate.js tells an older one still.
 */
async function openExistingStore(spec: string, io: CliIo): Promise<StoreLike> {
  const sqlite = spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : null;
  if (sqlite && sqlite !== ':memory:') sqliteFile(spec, resolve(io.cwd, sqlite));
  let open: typeof import('../../store/open.ts').openStore;
  try {
    ({ openStore: open } = await import('../../store/open.ts'));
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_UNKNOWN_BUILTIN_MODULE')
      throw new CliError(
        `--store needs node:sqlite, in Node 22.13 or newer (this is Node ${process.version}): install Node 24 LTS from https://nodejs.org/en/download (or \`nvm install 24\`)`,
      );
    throw e;
  }
  if (sqlite && sqlite !== ':memory:') await botDatabase(spec, resolve(io.cwd, sqlite));
  try {
    return await open(spec, io.cwd);
  } catch (e) {
    // Its messages name the setting and what was expected: input to fix, not a bug.
    if (e instanceof Error && e.message.startsWith('BUDGET_GATE_STORE'))
      throw new CliError(`--store: ${e.message}`);
    throw storeError(spec, 'cannot open', e);
  }
}

/** SQLite's first 16 bytes: a file without them is not a database the bot wrote. */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0');

/**
 * A `sqlite:` store must be a database the bot wrote: opening anything else would create or
 * migrate it (the bot's store is opened read-write), and an empty file would report a quiet shift.
 */
function sqliteFile(spec: string, path: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CliError(
        `--store ${spec}: no database at ${path}: the bot writes it (BUDGET_GATE_STORE, default ${DEFAULT_STORE_TEXT}); check the path`,
      );
    throw new CliError(`--store ${spec}: cannot read ${path} (${reason(e)})`);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new CliError(`--store ${spec}: ${path} is not a regular file`);
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const n = readSync(fd, head, 0, head.length, 0);
    if (n < head.length || !head.equals(SQLITE_MAGIC))
      throw new CliError(
        `--store ${spec}: ${path} is ${info.size === 0 ? 'empty' : 'not an SQLite database'}, not the bot's store: check the path (BUDGET_GATE_STORE on the bot)`,
      );
  } finally {
    closeSync(fd);
  }
}

/** An SQLite database that has no schema_migrations table was not written by the bot: refused, untouched. */
async function botDatabase(spec: string, path: string): Promise<void> {
  const { DatabaseSync } = await import('node:sqlite');
  let found: unknown;
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      found = db
        .prepare("SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
        .get();
    } finally {
      db.close();
    }
  } catch (e) {
    throw storeError(spec, 'cannot open', e);
  }
  if (!found)
    throw new CliError(
      `--store ${spec}: ${path} is an SQLite database, but not the bot's store (it has no schema_migrations): check the path (BUDGET_GATE_STORE on the bot)`,
    );
}

/**
 * A store that could not be opened or read, as input to fix: which store (a PostgreSQL URL by its
 * host only, never its password), what failed and why, in one cleaned line.
 */
function storeError(spec: string, what: string, e: unknown): CliError {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err.code === 'string' && /^[A-Z0-9_]+$/.test(err.code) ? err.code : null;
  const message = cleanText(String(err.message ?? e), 200);
  let shown = spec;
  if (/^postgres(ql)?:/.test(spec)) {
    let host = '';
    try {
      host = new URL(spec).host;
    } catch {}
    shown = `PostgreSQL at ${host || '(no host: localhost)'}`;
  }
  const hint = /^postgres/.test(spec)
    ? 'check the host, the port, the credentials and that the database is up'
    : "check that it is the bot's store (BUDGET_GATE_STORE on the bot)";
  return new CliError(
    `--store: ${what} ${shown}: ${code && !message.includes(code) ? `${code}: ` : ''}${redactUrls(message)}: ${hint}`,
  );
}

/** Connection strings a driver may echo, with their credentials taken out. */
const redactUrls = (s: string) => s.replace(/\/\/[^@/\s]*@/g, '//…@');

type StoreLike = Awaited<ReturnType<typeof import('../../store/open.ts').openStore>>;

/** The bot's default store, as its README states it (src/store/open.ts DEFAULT_STORE). */
const DEFAULT_STORE_TEXT = 'sqlite:./data/budget-gate.sqlite';
