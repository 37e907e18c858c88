import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decisionEvents } from '../../notify/events.ts';
import { FileLedger, LedgerError } from '../../notify/ledger.ts';
import { Notifier } from '../../notify/notifier.ts';
import { decisionSchema } from '../../policy/gate/decision-schema.ts';
import { ackWindow, clockOf, escalationPath, rotationOf, shiftAt } from '../../policy/oncall/rotation.ts';
import { routeSeverity } from '../../policy/oncall/routing.ts';
import { formatWall } from '../../policy/oncall/zone.ts';
import { DEFAULT_POLICY_PATH } from '../../policy/spec/load.ts';
import type { Policy } from '../../policy/spec/schema.ts';
import { parseAt, readPolicy, readText } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';
import { decisionLink, defaultBranch, githubServer } from '../page-facts.ts';

export const ONCALL_USAGE = `budget-gate oncall now [--policy FILE] [--at TIME] [--json]
budget-gate oncall page --decision FILE|- --repo OWNER/NAME --deployment ID --ledger FILE [--policy FILE] [--at TIME]
    [--decision-url URL] [--branch NAME]

  now    who is primary and secondary, who is next, the ack window and the escalation path
  page   send what a decision (budget-gate evaluate --json) calls for: alerts firing and a hard
         pause go to PagerDuty and Slack by the policy's severity routing, once each (the ledger
         file records what was sent); alerts no longer firing are resolved.
         Secrets come from the variables oncall.notify names.
         Every page carries the runbook (a repository path is linked to the file on the default
         branch: --branch, else the Actions event's default branch, else HEAD), who is on call,
         and the decision (--decision-url, else the GitHub Actions run it is part of).

exit 0 done, 2 invalid input or a notification that could not be sent`;

export async function oncallCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'now') return now(rest, io);
  if (sub === 'page') return page(rest, io);
  throw new CliError(`usage: ${ONCALL_USAGE.split('\n')[0]}`);
}

async function now(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      policy: { type: 'string', default: DEFAULT_POLICY_PATH },
      at: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const { policy } = await readPolicy(io, values.policy);
  const at = parseAt(io, values.at);
  const report = oncallNow(policy, at);
  io.stdout(values.json ? `${JSON.stringify(report.json, null, 2)}\n` : report.text);
  return EXIT.allowed;
}

function oncallNow(policy: Policy, at: number): { text: string; json: Record<string, unknown> } {
  const o = policy.oncall;
  const r = rotationOf(o);
  if (!r) {
    const who = [...o.users.map((u) => `@${u}`), ...o.teams.map((t) => `team ${t}`)];
    return {
      text: `No rotation in oncall: reverts request review from ${who.length ? who.join(', ') : 'nobody'}.\nAdd members, handoff and start to oncall to have a primary, an ack window and escalation (README: "The on-call contract").\n`,
      json: { rotation: null, reviewers: { users: o.users, teams: o.teams } },
    };
  }
  const z = r.zone;
  const s = shiftAt(r, at);
  const ack = ackWindow(o, at);
  const path = escalationPath(o, at);
  const lines = [`On call at ${formatWall(at, z)}`];
  if (s.index < 0) lines.push(`  (before the rotation's start, ${o.start}: counted backwards from it)`);
  lines.push(
    `  primary:    @${s.primary} (since ${formatWall(s.starts, z)}, until ${formatWall(s.ends, z)})`,
  );
  const cover = s.override === null ? null : (o.overrides?.[s.override] ?? null);
  if (cover)
    lines.push(
      `  covering:   @${cover.login} holds it by an override${cover.reason ? ` (${cover.reason})` : ''}`,
    );
  if (s.layer !== 'base') lines.push(`  layer:      ${s.layer}`);
  const clock = clockOf(o, s.primary);
  if (clock.zone !== z) lines.push(`  their time: ${formatWall(at, clock.zone)}`);
  lines.push(
    s.secondary
      ? `  secondary:  @${s.secondary}`
      : `  secondary:  none: a primary-only rotation${path[1] ? `; unacknowledged pages go to @${path[1].login}` : ', and no escalation path beyond the primary'}`,
  );
  lines.push(
    `  next:       @${s.next.primary}${s.next.secondary ? ` (secondary @${s.next.secondary})` : ''} from ${formatWall(s.ends, z)}`,
  );
  lines.push(`  ack window: ${ack.text} (${ack.business ? 'business hours' : 'overnight'})`);
  lines.push(
    `  escalation: ${path.map((p) => `${p.after === 0 ? '' : `+${Math.round(p.after / 60_000)}m `}@${p.login} (${p.role})`).join(' → ')}`,
  );
  const routes = (['sev1', 'sev2', 'sev3'] as const).map((sev) => routeSeverity(o, sev, at, at));
  lines.push('  severities now:');
  for (const route of routes) lines.push(`    ${route.why}`);
  return {
    text: `${lines.join('\n')}\n`,
    json: {
      at: new Date(at).toISOString(),
      timezone: z,
      mode: o.mode,
      primary: s.primary,
      primary_timezone: clock.zone,
      secondary: s.secondary,
      layer: s.layer,
      override: cover,
      shift: {
        index: s.index,
        starts: new Date(s.starts).toISOString(),
        ends: new Date(s.ends).toISOString(),
      },
      next: s.next,
      ack_window: ack,
      escalation: path.map((p) => ({ ...p, at: new Date(at + p.after).toISOString() })),
      severities: routes.map(({ raised, page, page_at, channel, owner, why }) => ({
        severity: raised,
        page,
        page_at: page_at === null ? null : new Date(page_at).toISOString(),
        channel,
        owner,
        why,
      })),
    },
  };
}

async function page(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      policy: { type: 'string', default: DEFAULT_POLICY_PATH },
      decision: { type: 'string' },
      repo: { type: 'string' },
      deployment: { type: 'string' },
      ledger: { type: 'string' },
      at: { type: 'string' },
      'decision-url': { type: 'string' },
      branch: { type: 'string' },
    },
  });
  const url = values['decision-url'];
  if (url !== undefined && !/^https?:\/\/\S+$/.test(url))
    throw new CliError(`--decision-url ${url.slice(0, 80)}: expected an http(s) URL`);
  for (const k of ['decision', 'repo', 'deployment', 'ledger'] as const)
    if (!values[k]) throw new CliError(`--${k} is required`);
  if (!/^[^/\s]+\/[^/\s]+$/.test(values.repo!))
    throw new CliError(`--repo ${values.repo}: expected owner/name`);
  const { policy } = await readPolicy(io, values.policy);
  const text = await readText(io, values.decision!, 'decision');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CliError(
      `${values.decision}: not JSON (${(e as Error).message}); pass the output of evaluate --json`,
    );
  }
  const parsed = decisionSchema.safeParse(json);
  if (!parsed.success)
    throw new CliError(
      `${values.decision}: not a decision: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
    );
  const at = parseAt(io, values.at);
  const decision = parsed.data;
  const ledger = new FileLedger(resolve(io.cwd, values.ledger!));
  try {
    await ledger.lock();
    return await pageWith(ledger);
  } catch (e) {
    if (e instanceof LedgerError) throw new CliError(e.message);
    throw e;
  } finally {
    const problem = await ledger.release();
    if (problem) io.stderr(`warning: ${problem}\n`);
  }

  async function pageWith(ledger: FileLedger): Promise<number> {
    const notifier = new Notifier({
      oncall: policy.oncall,
      env: io.env,
      ledger,
    });
    for (const p of notifier.configProblems()) io.stderr(`warning: ${p}\n`);
    if (!policy.oncall.notify.pagerduty && !policy.oncall.notify.slack)
      io.stderr('warning: oncall.notify names neither pagerduty nor slack: nothing is sent\n');
    const link = decisionLink(url, io.env);
    if (!link.link) io.stderr(`warning: the pages carry no link to the decision: ${link.missing}\n`);
    const events = decisionEvents(policy, decision, {
      repo: values.repo!,
      deployment: values.deployment!,
      url: link.link?.href ?? null,
      ...(link.link ? { url_text: link.link.text } : {}),
      url_missing: link.missing,
      server: githubServer(io.env),
      branch: await defaultBranch(values.branch, io.env),
      at,
    });
    const sent = await notifier.send(events, at);
    const settled = await notifier.settle(
      values.repo!,
      ['alert', 'hard-pause'],
      events.map((e) => e.key),
      at,
    );
    let failed = false;
    for (const d of [...sent, ...settled]) {
      io.stdout(`${d.key}: ${d.sent.length ? d.sent.join(', ') : 'nothing new to send'} (${d.why})\n`);
      for (const e of d.errors) {
        failed = true;
        io.stderr(`${e}\n`);
      }
    }
    // A sev1 that reached no one is said on its own line, whatever else was sent (a Slack post is not a page).
    for (const d of sent) {
      if (d.undelivered !== null && d.severity === 'sev1')
        io.stderr(`SEV1 NOT DELIVERED: ${d.key}: ${d.undelivered}\n`);
    }
    if (sent.length + settled.length === 0) io.stdout('nothing firing, nothing open\n');
    return failed ? EXIT.invalid : EXIT.allowed;
  }
}
