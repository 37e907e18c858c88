import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FileLedger, LedgerError } from '../../notify/ledger.ts';
import { changeSchema } from '../../policy/gate/change.ts';
import { decide } from '../../policy/gate/decide.ts';
import type { Decision } from '../../policy/gate/decision-schema.ts';
import { planRequest } from '../../policy/gate/plan.ts';
import type { TelemetrySource } from '../../policy/gate/ports.ts';
import { rotationOf, shiftAt } from '../../policy/oncall/rotation.ts';
import { monthStart } from '../../policy/oncall/shift-load.ts';
import { verifyChain } from '../../policy/overrides/audit-chain.ts';
import type { Policy } from '../../policy/spec/schema.ts';
import { type HandoffData, renderHandoff } from '../../report/handoff.ts';
import { openExistingStore, storeError } from '../existing-store.ts';
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

const MAX_LOOKS = 96;

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
